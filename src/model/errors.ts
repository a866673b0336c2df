/**
 * Typed, user-fixable errors. Each message says what is wrong and what to do about it;
 * the CLI prints it and exits 1, the app renders it into the issue comment.
 */
export class MeshUpgradeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A YAML file that cannot be parsed. Nothing is written when one exists. */
export class MalformedYamlError extends MeshUpgradeError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: malformed YAML: ${reason}. Fix the file (or move it out of the cluster path) and plan again.`);
  }
}

/** A revision name or version that cannot be understood. */
export class RevisionError extends MeshUpgradeError {}

/** The upgrade policy refuses this path (too many minors, downgrade without consent, …). */
export class UpgradeRefusedError extends MeshUpgradeError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The repo holds no Istio/ASM mesh the planner can work with. */
export class MeshNotFoundError extends MeshUpgradeError {}

/** A phase id that the plan does not contain. */
export class UnknownPhaseError extends MeshUpgradeError {
  constructor(
    readonly phaseId: string,
    readonly validIds: readonly string[],
  ) {
    super(`unknown phase '${phaseId}'; this plan's phases are: ${validIds.join(', ')}`);
  }
}
