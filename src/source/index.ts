/** The source stage: opening repositories, resolving revisions, reading trees, verifying signatures. */
export type {
  Commit,
  GitSource,
  ReadLimits,
  Signature,
  SignatureVerification,
  Snapshot,
  TreeEntry,
  VerifiedCommit,
} from "./types.ts";
export { defaultReadLimits } from "./types.ts";
export type { OpenSourceOptions } from "./open-source.ts";
export { openSource } from "./open-source.ts";
export type { ParsedLocation, LocalLocation, RemoteLocation } from "./source-location.ts";
export { parseLocation, maskUserinfo, locationMask } from "./source-location.ts";
export { normalizeRepoPath } from "./repo-path.ts";
export type { GitIdentity, UserIdentityOptions } from "./git-identity.ts";
export { committerFor, userIdentity } from "./git-identity.ts";
export type { PushRejection, WorkingCloneOptions, WorkingCloneSettings } from "./working-clone.ts";
export { PushRefusal, WorkingClone, withWorkingClone } from "./working-clone.ts";
export type { Trailer } from "./trailers.ts";
export { parseTrailers } from "./trailers.ts";
export type { RollbackScope } from "./rollback-trailer.ts";
export { rollbackOf, rollbackTrailer, rollbackTrailerKey } from "./rollback-trailer.ts";
export type { RemoteHeadOptions } from "./remote-head.ts";
export { remoteHead } from "./remote-head.ts";
