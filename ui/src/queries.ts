/**
 * The API reads as TanStack Query hooks, one per resource, keyed by `keys.ts` so the event
 * stream can refresh them. Lists with cursors are infinite queries ("Load more").
 */
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { ApiError, getJson, query, seg } from "./api.ts";
import { keys } from "./keys.ts";
import type {
  AgentStatusLite, AuditPage, DriftRow, Environment, Me, Page, Stack, StackDetail, StackDiff, SyncRow, TokenInfo,
} from "./types.ts";

const v1 = "/api/v1";

/** Who the browser is; `null` when not logged in and anonymous reads are not allowed (401). */
export function useMe() {
  return useQuery({
    queryKey: keys.me(),
    queryFn: async ({ signal }) => {
      try {
        return await getJson<Me>(`${v1}/me`, "who you are", signal);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: 60_000,
    retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 2,
  });
}

/** The repository and head the agent follows (for commit links). */
export function useStatusLite() {
  return useQuery({
    queryKey: keys.status(),
    queryFn: ({ signal }) => getJson<AgentStatusLite>(`${v1}/status`, "agent status", signal),
    staleTime: 30_000,
    select: (s): AgentStatusLite => ({ repo: s.repo, branch: s.branch, ...(s.head === undefined ? {} : { head: s.head }) }),
  });
}

/** Environments with their counts and gate. */
export function useEnvironments() {
  return useQuery({
    queryKey: keys.environments(),
    queryFn: ({ signal }) => getJson<{ items: Environment[] }>(`${v1}/environments`, "environments", signal),
  });
}

/** Every stack the principal can read. */
export function useStacks() {
  return useQuery({
    queryKey: keys.stacks(),
    queryFn: ({ signal }) => getJson<{ items: Stack[] }>(`${v1}/stacks`, "stacks", signal),
  });
}

/** One stack with its objects' health. */
export function useStackDetail(environment: string, stack: string) {
  return useQuery({
    queryKey: keys.stackDetail(environment, stack),
    queryFn: ({ signal }) => getJson<StackDetail>(`${v1}/environments/${seg(environment)}/stacks/${seg(stack)}`, `stack ${environment}/${stack}`, signal),
  });
}

/** The live diff of a stack: computed by the agent against the target, so kept fresh for 15 s. */
export function useDiff(environment: string, stack: string) {
  return useQuery({
    queryKey: keys.diff(environment, stack),
    queryFn: ({ signal }) => getJson<StackDiff>(`${v1}/environments/${seg(environment)}/stacks/${seg(stack)}/diff`, `diff of ${environment}/${stack}`, signal),
    staleTime: 15_000,
  });
}

/** A stack's history, newest first, 20 at a time. */
export function useHistory(environment: string, stack: string) {
  return useInfiniteQuery({
    queryKey: keys.history({ environment, stack }),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ signal, pageParam }) =>
      getJson<Page<SyncRow>>(`${v1}/history${query({ environment, stack, limit: 20, cursor: pageParam })}`, `history of ${environment}/${stack}`, signal),
    getNextPageParam: (last) => last.next ?? undefined,
  });
}

/** A stack's drift events, newest first. */
export function useDrift(environment: string, stack: string) {
  return useInfiniteQuery({
    queryKey: keys.drift({ environment, stack }),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ signal, pageParam }) =>
      getJson<Page<DriftRow>>(`${v1}/drift${query({ environment, stack, limit: 20, cursor: pageParam })}`, `drift of ${environment}/${stack}`, signal),
    getNextPageParam: (last) => last.next ?? undefined,
  });
}

/** The audit log with its chain verification, 100 at a time. */
export function useAudit() {
  return useInfiniteQuery({
    queryKey: keys.audit(),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ signal, pageParam }) => getJson<AuditPage>(`${v1}/audit${query({ limit: 100, cursor: pageParam })}`, "audit log", signal),
    getNextPageParam: (last) => last.next ?? undefined,
  });
}

/** API tokens (admin). */
export function useTokens() {
  return useQuery({
    queryKey: keys.tokens(),
    queryFn: ({ signal }) => getJson<{ items: TokenInfo[] }>(`${v1}/tokens`, "tokens", signal),
  });
}
