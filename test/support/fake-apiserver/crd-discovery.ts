import type { Cluster } from "./cluster.ts";
import type { CrdInfo } from "./crd-schema.ts";
import { crdDiscoveryEntries } from "./crd-schema.ts";
import type { CustomGroups } from "./discovery.ts";

/** Discovery of the groups of established CRDs, read live from the cluster. */
export function crdDiscovery(cluster: Cluster): CustomGroups {
  const byGroup = () => {
    const groups = new Map<string, CrdInfo[]>();
    for (const info of cluster.establishedCrds().values()) groups.set(info.group, [...(groups.get(info.group) ?? []), info]);
    return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : 1)));
  };
  return {
    groups() {
      return [...byGroup()].map(([group, infos]) => {
        const versions = [...new Set(infos.flatMap((i) => i.versions.map((v) => v.name)))].sort(compareVersions);
        const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
        return { name: group, versions: entries, preferredVersion: entries[0] };
      });
    },
    resourceList(groupVersion: string) {
      const slash = groupVersion.indexOf("/");
      const infos = byGroup().get(groupVersion.slice(0, slash));
      const version = groupVersion.slice(slash + 1);
      const serving = (infos ?? []).filter((i) => i.versions.some((v) => v.name === version)).sort((a, b) => (a.plural < b.plural ? -1 : 1));
      if (slash < 0 || serving.length === 0) return undefined;
      const resources = serving.flatMap((i) => crdDiscoveryEntries(i, i.versions.find((v) => v.name === version) ?? i.versions[0]!));
      return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
    },
  };
}

// Kubernetes version priority: GA before beta before alpha, higher numbers first, others last.
function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (m === null) return [3, 0, 0];
    const level = m[2] === undefined ? 0 : m[2] === "beta" ? 1 : 2;
    return [level, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] ?? 0) - (rb[i] ?? 0);
  return a < b ? -1 : 1;
}
