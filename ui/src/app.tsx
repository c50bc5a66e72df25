/**
 * The app shell: who is signed in, the header with navigation and the live indicator, and the
 * page the hash route names.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { send } from "./api.ts";
import { keys } from "./keys.ts";
import { useLiveEvents } from "./live.ts";
import { AuditPage } from "./pages/audit.tsx";
import { LoginPage } from "./pages/login.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { StackPage } from "./pages/stack.tsx";
import { TokensPage } from "./pages/tokens.tsx";
import { allowed } from "./permissions.ts";
import { useMe } from "./queries.ts";
import { parseRoute, routeHash, type Route } from "./route.ts";
import type { Me } from "./types.ts";
import { ErrorBox, Loading } from "./widgets.tsx";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** The whole UI. */
export function App() {
  const route = useRoute();
  const me = useMe();
  const signedIn = me.data !== undefined && me.data !== null;
  const live = useLiveEvents(signedIn);
  useEffect(() => {
    const title = route.page === "stack" ? `${route.environment}/${route.stack}` : route.page;
    document.title = `${title} · gitward`;
  }, [route]);

  if (me.isPending) return <main className="page"><Loading what="your session" /></main>;
  if (me.isError) return <main className="page"><ErrorBox error={me.error} retry={() => void me.refetch()} /></main>;
  if (me.data === null || route.page === "login") return <LoginPage me={me.data} />;
  return (
    <>
      <Header me={me.data} route={route} live={live} />
      <main className="page" id="main" tabIndex={-1}>
        <Page route={route} me={me.data} />
      </main>
    </>
  );
}

function Page(props: { route: Route; me: Me }) {
  const r = props.route;
  switch (r.page) {
    case "overview":
      return <OverviewPage route={r} />;
    case "stack":
      return <StackPage environment={r.environment} stack={r.stack} me={props.me} />;
    case "audit":
      return allowed(props.me, "audit") ? <AuditPage /> : <ErrorBox error={new Error("The audit log needs viewer on every environment (*).")} />;
    case "tokens":
      return allowed(props.me, "tokens") ? <TokensPage me={props.me} /> : <ErrorBox error={new Error("Tokens need admin on every environment (*).")} />;
    case "login":
      return null;
    case "not-found":
      return <ErrorBox error={new Error(`No page at #/${r.path}.`)} />;
  }
}

const liveText = { live: "live", connecting: "connecting…", offline: "offline" } as const;

function Header(props: { me: Me; route: Route; live: keyof typeof liveText }) {
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(undefined);
  const link = (r: Route, text: string, testId: string) => (
    <a href={routeHash(r)} data-testid={testId} aria-current={props.route.page === r.page ? "page" : undefined}>{text}</a>
  );
  const logout = async (): Promise<void> => {
    try {
      await send("POST", "/auth/logout", "signing out", {}, props.me.csrfToken);
      client.clear();
      window.location.hash = "#/";
      await client.invalidateQueries({ queryKey: keys.me() });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <header className="top">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
      <strong className="brand">gitward</strong>
      <nav aria-label="Pages">
        {link({ page: "overview" }, "Overview", "nav-overview")}
        {allowed(props.me, "audit") ? link({ page: "audit" }, "Audit log", "nav-audit") : null}
        {allowed(props.me, "tokens") ? link({ page: "tokens" }, "Tokens", "nav-tokens") : null}
      </nav>
      <span className={`live live-${props.live}`} data-testid="live-state" title="Updates from the agent's event stream">
        <span aria-hidden="true">{props.live === "live" ? "●" : "○"}</span> {liveText[props.live]}
      </span>
      <span className="who" data-testid="who">
        {props.me.kind === "anonymous" ? "anonymous (read only)" : props.me.name}
      </span>
      {props.me.kind === "anonymous"
        ? <a href="#/login" data-testid="sign-in">Sign in</a>
        : <button type="button" onClick={() => void logout()} data-testid="sign-out">Sign out</button>}
      {error === undefined ? null : <ErrorBox error={error} />}
    </header>
  );
}
