import type { KObject, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import type { RenderResult } from "../render/renderer.ts";

/**
 * Moves a preview's kubernetes objects into its namespace: every namespaced object (one whose
 * rendered ref has a namespace, given in the manifest or by the stack's default) goes to
 * `namespace`, and a Namespace object the stack declares becomes that namespace, so a stack
 * that creates its own namespace creates the preview's instead of sharing the template's.
 * A second Namespace object would be the same one, and is dropped. Cluster-scoped objects of
 * other kinds are left as written (see docs/previews.md).
 */
export function confineToNamespace(render: RenderResult, namespace: string): RenderResult {
  if (!render.ok) return render;
  let namespaceSeen = false;
  const objects: RenderedObject[] = [];
  for (const o of render.objects) {
    if (o.ref.group === "" && o.ref.kind === "Namespace") {
      if (namespaceSeen) continue;
      namespaceSeen = true;
      objects.push(withMetadata(o, { name: namespace }, { ...o.ref, name: namespace }));
    } else if (o.ref.namespace !== undefined && o.ref.namespace !== "") {
      objects.push(withMetadata(o, { namespace }, { ...o.ref, namespace }));
    } else {
      objects.push(o);
    }
  }
  // The render key names what the objects were made from; they are not that any more.
  return { ...render, objects, key: "" };
}

function withMetadata(o: RenderedObject, change: Readonly<Record<string, string>>, ref: RenderedObject["ref"]): RenderedObject {
  const meta = isRecord(o.object["metadata"]) ? o.object["metadata"] : {};
  const object: KObject = { ...o.object, metadata: { ...meta, ...change } };
  return { ...o, object, ref };
}
