/**
 * Who moves the upgrade on, and what they do: a person (review a PR, do manual steps, fix what
 * paused it) or the bot (waiting on Argo CD, a grace period, opening the next phase).
 */
export type NextMove =
  | {
      readonly actor: 'person';
      /** What to do, said to that person (null: resolve what paused the upgrade). */
      readonly text: string | null;
      /** Names this hand-over: a person is told once per hand-over, however often the walk runs. */
      readonly handover: string;
    }
  | { readonly actor: 'bot'; readonly text: string | null };
