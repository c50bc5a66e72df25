/** The fields of a failure `Status` the fake answers with. */
export interface StatusFailure {
  readonly code: number;
  /** Absent for some 500s (the server leaves it out for errors from server-side apply). */
  readonly reason?: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
  /** Extra response headers (Retry-After). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request failure carrying the Status the API server would answer. */
export class ApiError extends Error {
  readonly status: StatusFailure;
  constructor(status: StatusFailure) {
    super(status.message);
    this.status = status;
  }
}

/** The mux's plain-text "404 page not found", for paths no API group serves. */
export class PageNotFound extends Error {
  constructor() {
    super("404 page not found");
  }
}

/** How a resource is named in messages and details. */
export interface ResourceName {
  readonly group: string;
  /** The plural resource, e.g. `configmaps`. */
  readonly resource: string;
  readonly kind: string;
}

/** `configmaps` or `deployments.apps`, as the API server qualifies a resource in messages. */
export function qualified(r: ResourceName): string {
  return r.group === "" ? r.resource : `${r.resource}.${r.group}`;
}

/** `ConfigMap` or `Deployment.apps`, as Invalid messages name a kind. */
export function qualifiedKind(r: ResourceName): string {
  return r.group === "" ? r.kind : `${r.kind}.${r.group}`;
}

function resourceDetails(r: ResourceName, name: string, kind = r.resource): Record<string, unknown> {
  return { ...(name === "" ? {} : { name }), ...(r.group === "" ? {} : { group: r.group }), kind };
}

/** 404 NotFound for a missing object; details.kind is the plural resource. */
export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError({ code: 404, reason: "NotFound", message: `${qualified(r)} "${name}" not found`, details: resourceDetails(r, name) });
}

/** 404 for a resource or version a served group does not have. */
export function resourceNotFound(): ApiError {
  return new ApiError({ code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: {} });
}

/** 409 AlreadyExists. */
export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError({ code: 409, reason: "AlreadyExists", message: `${qualified(r)} "${name}" already exists`, details: resourceDetails(r, name) });
}

/** 409 Conflict for a stale resourceVersion. */
export function staleConflict(r: ResourceName, name: string): ApiError {
  const message =
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; ` +
    "please apply your changes to the latest version and try again";
  return new ApiError({ code: 409, reason: "Conflict", message, details: resourceDetails(r, name) });
}

/** 409 Conflict for a failed delete precondition (details name the Kind, as recorded). */
export function preconditionConflict(r: ResourceName, name: string, detail: string): ApiError {
  const message = `Operation cannot be fulfilled on ${qualifiedKind(r)} "${name}": ${detail}`;
  return new ApiError({ code: 409, reason: "Conflict", message, details: resourceDetails(r, name, r.kind) });
}

/** 400 BadRequest; these carry no details. */
export function badRequest(message: string): ApiError {
  return new ApiError({ code: 400, reason: "BadRequest", message });
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(message = "the server does not allow this method on the requested resource", details: Record<string, unknown> = {}): ApiError {
  return new ApiError({ code: 405, reason: "MethodNotAllowed", message, details });
}

/** A 500 as server-side apply reports its failures: no reason, no details. */
export function applyFailure(message: string): ApiError {
  return new ApiError({ code: 500, message });
}

/** 403 Forbidden for an object, with optional causes. */
export function forbiddenObject(r: ResourceName, name: string, detail: string, causes?: FieldCause[]): ApiError {
  const details = { ...resourceDetails(r, name), ...(causes === undefined ? {} : { causes }) };
  return new ApiError({ code: 403, reason: "Forbidden", message: `${qualified(r)} "${name}" is forbidden: ${detail}`, details });
}

/** One `details.causes[]` entry. */
export interface FieldCause {
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

/** A field validation error, as the API server's field.Error produces them. */
export interface FieldError {
  readonly type: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueDuplicate";
  readonly field: string;
  /** The cause message, e.g. `Invalid value: "x": must be ...` or `Required value`. */
  readonly message: string;
}

/** Helpers spelling field errors the way field.Invalid/Required/NotSupported/Forbidden do. */
export const fieldError = {
  invalid: (field: string, value: string, detail: string): FieldError => ({ type: "FieldValueInvalid", field, message: `Invalid value: ${value}: ${detail}` }),
  required: (field: string, detail = ""): FieldError => ({
    type: "FieldValueRequired",
    field,
    message: detail === "" ? "Required value" : `Required value: ${detail}`,
  }),
  notSupported: (field: string, value: string, allowed: readonly string[]): FieldError => ({
    type: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${value}: supported values: ${allowed.join(", ")}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: "FieldValueForbidden", field, message: `Forbidden: ${detail}` }),
};

/** 422 Invalid: details.kind is the Kind, with the group and one cause per field error. */
export function invalid(r: ResourceName, name: string, errors: readonly FieldError[]): ApiError {
  const lines = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = lines.length === 1 ? (lines[0] ?? "") : `[${lines.join(", ")}]`;
  return new ApiError({
    code: 422,
    reason: "Invalid",
    message: `${qualifiedKind(r)} "${name}" is invalid: ${summary}`,
    details: {
      ...resourceDetails(r, name, r.kind),
      causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    },
  });
}
