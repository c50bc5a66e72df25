// Run by recovery.test.ts in a child process, which the crash hooks of the transaction layer
// (GITWARD_TEST_CRASH_AFTER_OPS, GITWARD_TEST_CRASH_AFTER_UNDO) kill with SIGKILL part-way.
//   node crash-child.ts apply <root>    begin the scenario's transaction and exit without committing
//   node crash-child.ts recover <root>  recover the root
import { beginTransaction, recoverTransaction } from "../../../../src/providers/host/fs/transaction.ts";
import { scenarioOps } from "./scenario.ts";

const [mode, root] = process.argv.slice(2);
if (root === undefined) throw new Error("usage: crash-child.ts apply|recover <root>");
if (mode === "apply") {
  await beginTransaction(root, scenarioOps());
  console.log("applied");
} else {
  console.log(JSON.stringify(await recoverTransaction(root)));
}
