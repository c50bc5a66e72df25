import { invalidCall } from "../store-error.ts";

/** A WHERE clause built from the filters given, with positional parameters ($1, $2, …) for pg. */
export class PgFilter {
  readonly #terms: string[] = [];
  readonly params: unknown[] = [];

  /** The placeholder of a new parameter. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** Adds `column = value` when the value is given. */
  eq(column: string, value: string | undefined): this {
    if (value !== undefined) this.#terms.push(`${column} = ${this.param(value)}`);
    return this;
  }

  /** Adds `column = ANY(values)` when the list is given; an empty list matches no row. */
  among(column: string, values: readonly string[] | undefined): this {
    if (values !== undefined) this.#terms.push(values.length === 0 ? "false" : `${column} = ANY(${this.param([...values])}::text[])`);
    return this;
  }

  /** Compares a timestamp column with an ISO 8601 time, normalised to the stored UTC form so text order is time order. */
  time(comparison: string, name: string, value: string | undefined): this {
    if (value === undefined) return this;
    const t = new Date(value);
    if (Number.isNaN(t.getTime())) throw invalidCall(`${name} ${JSON.stringify(value.slice(0, 40))} is not an ISO 8601 time`);
    this.#terms.push(`${comparison} ${this.param(t.toISOString())}`);
    return this;
  }

  /** Adds a term written by the caller, with its placeholders already taken through {@link param}. */
  add(term: string): this {
    this.#terms.push(term);
    return this;
  }

  sql(): string {
    return this.#terms.length === 0 ? "" : `WHERE ${this.#terms.join(" AND ")}`;
  }
}
