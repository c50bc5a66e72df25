/** What started a sync. */
export const TriggerKind = {
  /** The agent's poll of the Git remote found a new revision. */
  Poll: "poll",
  /** A forge webhook announced a push. */
  Webhook: "webhook",
  /** Someone asked for it (CLI, API, UI); `by` says who. */
  Manual: "manual",
  /** A drift check found changes made outside gitward and self-heal corrected them. */
  Drift: "drift",
  /** The agent synced on start. */
  Startup: "startup",
  /** A pipeline or a person ran `gitward apply` (push mode); `by` says who. */
  Push: "push",
  /** The revision is a rollback commit (`gitward rollback`); `by` is its author. */
  Rollback: "rollback",
} as const;
/** One of {@link TriggerKind}. */
export type TriggerKind = (typeof TriggerKind)[keyof typeof TriggerKind];

/** What started a sync, and who or what asked for it. */
export interface SyncTrigger {
  readonly kind: TriggerKind;
  /** Who asked: a user for `manual`, the forge delivery's sender for `webhook`. */
  readonly by?: string;
  /** Free text: a webhook delivery id, a reason given with a manual trigger. Redacted. */
  readonly detail?: string;
}
