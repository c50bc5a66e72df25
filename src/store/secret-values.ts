import { redactValuesDeep, type SecretValues } from "./redact.ts";
import type { Store } from "./store.ts";

/**
 * A store that masks the runner's own secret values, by value, in everything it is given and
 * everything it answers. Pattern redaction (`prepare.ts`) cannot know that a random string is
 * the agent's API token; a host command that prints it (`printenv`, `cat /etc/gitward/api-token`)
 * would otherwise be stored and served by `GET /api/v1/history`. Reads are masked too, so
 * records written before a secret was configured are not served with it either.
 *
 * Every method is wrapped, including ones added to {@link Store} later: arguments are masked
 * before the store sees them, results before the caller does. `location` and `close` pass
 * through. With no secret values, the store itself is returned.
 */
export function withSecretValues(store: Store, secrets: SecretValues): Store {
  if (secrets.values.length === 0) return store;
  const mask = <T>(v: T): T => redactValuesDeep(v, secrets);
  return new Proxy(store, {
    get(target, prop, receiver): unknown {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "close") return typeof value === "function" ? value.bind(target) as unknown : value;
      const method = value as (...args: unknown[]) => unknown;
      // A view of the store is masked like the store; the coordination port carries no free text worth masking.
      if (prop === "fenced") return (...args: unknown[]): unknown => withSecretValues(method.apply(target, args) as Store, secrets);
      if (prop === "coordination") return method.bind(target);
      return (...args: unknown[]): unknown => {
        const result = method.apply(target, args.map(mask));
        return result instanceof Promise ? result.then(mask) : mask(result);
      };
    },
  });
}
