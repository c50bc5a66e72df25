/**
 * An in-process fake Kubernetes API server built from the recordings of a real one, and the
 * helpers tests use to get a cluster: the fake, or a real cluster when GITWARD_TEST_KUBECONFIG
 * is set. Each concern lives in its own file under fake-apiserver/.
 */
export type { FakeApiServer, FakeApiServerOptions, ReceivedRequest } from "./fake-apiserver/server.ts";
export { startFakeApiServer } from "./fake-apiserver/server.ts";
export type { FaultSpec, RequestMatch } from "./fake-apiserver/faults.ts";
export type { ControllerTiming } from "./fake-apiserver/cluster.ts";
export type { WorkloadMode } from "./fake-apiserver/deployment-controller.ts";
export type { KubeconfigSpec } from "./fake-apiserver/kubeconfig.ts";
export { writeKubeconfig } from "./fake-apiserver/kubeconfig.ts";
export type { TestCluster } from "./fake-apiserver/test-cluster.ts";
export { testCluster } from "./fake-apiserver/test-cluster.ts";
export type { RecordedExchange } from "./fake-apiserver/recordings.ts";
export { listExchanges, readExchange, readRecordedBytes, recordingsRoot } from "./fake-apiserver/recordings.ts";
