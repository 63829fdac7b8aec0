// Every page of the console, in the order they are matched.
import { type ConsoleRoute, redirect } from "./app.ts";
import { HEALTH_ROUTES } from "./pages/health.ts";
import { QUEUE_ROUTES } from "./pages/queues.ts";
import { KIND_PAGES, kindRoutes } from "./pages/records.ts";
import { ROUTE_ROUTES } from "./pages/route.ts";
import { WIZARD_ROUTES } from "./pages/send-connector-wizard.ts";
import { SETTINGS_ROUTES } from "./pages/settings.ts";
import { TRACE_ROUTES } from "./pages/trace.ts";

export const ROUTES: ConsoleRoute[] = [
  { method: "GET", path: /^\/$/, handle: async () => redirect("/queues") },
  ...WIZARD_ROUTES,
  ...KIND_PAGES.flatMap((k) => kindRoutes(k, { customNew: k.slug === "send-connectors" })),
  ...QUEUE_ROUTES,
  ...TRACE_ROUTES,
  ...ROUTE_ROUTES,
  ...HEALTH_ROUTES,
  ...SETTINGS_ROUTES,
];
