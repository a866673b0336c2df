export interface PlanWarning {
  readonly code: string;
  readonly message: string;
  readonly file: string | null;
}
