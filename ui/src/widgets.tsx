/**
 * The small pieces every page uses: state badges (icon + word + colour), loading, empty and
 * error states, and a modal dialog that Esc closes.
 */
import { useEffect, useRef, type ReactNode } from "react";
import { badgeOf } from "./format.ts";

/** A state shown as icon, word and colour together. */
export function StateBadge(props: { kind: string; value: string; label?: string; testId?: string }) {
  const b = badgeOf(props.kind, props.value);
  return (
    <span className={`badge tone-${b.tone}`} data-testid={props.testId} data-state={props.value}>
      <span aria-hidden="true">{b.icon}</span> {props.label ?? b.text}
    </span>
  );
}

/** Shown while a query loads. */
export function Loading(props: { what: string }) {
  return <p className="state-msg" role="status" aria-live="polite" data-testid="loading">Loading {props.what}…</p>;
}

/** Shown when a list is empty: says what is missing and, when useful, why. */
export function Empty(props: { children: ReactNode }) {
  return <p className="state-msg empty" data-testid="empty">{props.children}</p>;
}

/** Shown when a query failed, with a retry. */
export function ErrorBox(props: { error: unknown; retry?: () => void }) {
  const message = props.error instanceof Error ? props.error.message : String(props.error);
  return (
    <div className="error-box" role="alert" data-testid="error">
      <span aria-hidden="true">⚠</span> {message}
      {props.retry === undefined ? null : <button type="button" onClick={props.retry}>Try again</button>}
    </div>
  );
}

/**
 * A modal dialog (the native `<dialog>`: focus stays inside, Esc closes it). `onClose` runs
 * for Esc, the close button and the backdrop.
 */
export function Dialog(props: { title: string; onClose: () => void; testId: string; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      data-testid={props.testId}
      aria-labelledby={`${props.testId}-title`}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) props.onClose();
      }}
    >
      <div className="dialog-body">
        <h2 id={`${props.testId}-title`}>{props.title}</h2>
        {props.children}
      </div>
    </dialog>
  );
}
