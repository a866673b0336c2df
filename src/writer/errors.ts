import { MeshUpgradeError } from '../model/errors.js';

/** An edit the writer cannot make correctly: nothing is written. */
export class YamlEditError extends MeshUpgradeError {}
