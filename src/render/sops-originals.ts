import type { KObject } from "../core/object.ts";
import { encryptedLeaves } from "../core/sops-values.ts";
import { isRecord } from "../core/object.ts";
import type { Snapshot } from "../source/types.ts";
import { kustomizationNames, type KustomizeInputs } from "./kustomize-inputs.ts";
import { isManifestFile, parseManifestFile } from "./parse-manifests.ts";

const encryptedInText = /ENC\[[A-Z0-9_]+,data:[^\]\n]*\]/g;
const dotenvMac = /^sops_mac=/m;

/**
 * Finds, for a rendered object holding SOPS-encrypted values, the documents the sops tool wrote
 * them in: their MACs cover the values as encrypted, before gitward defaulted a namespace or
 * kustomize added labels, reordered fields or merged a patch from another encrypted file. Render
 * never decrypts; apply verifies these documents and then decrypts the object.
 */
export class SopsOriginals {
  readonly #byValue: Map<string, KObject[]>;
  /** SOPS dotenv files among the inputs (a secretGenerator's `envs:`), by the ENC[...] values they hold. */
  readonly #envFiles = new Map<string, string>();

  private constructor(documents: readonly KObject[], envFiles: readonly string[] = []) {
    for (const text of envFiles) for (const v of text.match(encryptedInText) ?? []) this.#envFiles.set(v, text);
    this.#byValue = new Map();
    for (const doc of documents) {
      for (const v of encryptedStrings(doc)) {
        const list = this.#byValue.get(v) ?? [];
        if (!list.includes(doc)) list.push(doc);
        this.#byValue.set(v, list);
      }
    }
  }

  /** For plain manifests: each encrypted document is its own original, copied before namespace defaulting. */
  static plain(): SopsOriginals {
    return new SopsOriginals([]);
  }

  /**
   * For kustomize output: the encrypted documents among the build's input files, read only when
   * the output holds an encrypted value.
   */
  static async ofKustomizeInputs(snapshot: Snapshot, inputs: KustomizeInputs, output: Buffer, signal?: AbortSignal): Promise<SopsOriginals> {
    if (!output.includes("ENC[")) return SopsOriginals.plain();
    const files = [...inputs.dirs.flatMap((d) => snapshot.listFiles(d).map((f) => f.path)), ...inputs.files]
      .filter((p) => !(kustomizationNames as readonly string[]).includes(p.slice(p.lastIndexOf("/") + 1)));
    const contents = await snapshot.readFiles(files, signal);
    const documents: KObject[] = [];
    const envFiles: string[] = [];
    for (const [file, content] of contents) {
      if (!content.includes("sops")) continue;
      if (dotenvMac.test(content.toString("utf8"))) {
        envFiles.push(content.toString("utf8"));
        continue;
      }
      if (!isManifestFile(file)) continue;
      try {
        for (const m of parseManifestFile(file, content, { vars: undefined })) if (isRecord(m.object["sops"])) documents.push(m.object);
      } catch {
        // Not manifests (a generator's data file): kustomize reports its own errors.
      }
    }
    return new SopsOriginals(documents, envFiles);
  }

  /**
   * For a plain Secret that kustomize generated from a SOPS dotenv file (`secretGenerator.envs`):
   * that file, whose values its `data` holds base64-encoded; undefined for any other object.
   */
  envFileOf(object: KObject): string | undefined {
    if (object["apiVersion"] !== "v1" || object["kind"] !== "Secret" || isRecord(object["sops"]) || this.#envFiles.size === 0) return undefined;
    const data = object["data"];
    if (!isRecord(data) || !("sops_mac" in data)) return undefined;
    for (const v of Object.values(data)) {
      if (typeof v !== "string") continue;
      const text = Buffer.from(v, "base64").toString("utf8");
      const file = this.#envFiles.get(text);
      if (file !== undefined) return file;
    }
    return undefined;
  }

  /**
   * The encrypted documents whose values `object` holds (a copy of the object itself when none
   * of the inputs has them: it is then verified as it is), or undefined when it holds no `sops`
   * section.
   */
  of(object: KObject): readonly KObject[] | undefined {
    if (!isRecord(object["sops"])) return undefined;
    const found: KObject[] = [];
    for (const v of encryptedStrings(object)) {
      for (const doc of this.#byValue.get(v) ?? []) if (!found.includes(doc)) found.push(doc);
    }
    return found.length > 0 ? found : [structuredClone(object)];
  }
}

function encryptedStrings(doc: KObject): string[] {
  return encryptedLeaves(doc).map((l) => l.value);
}
