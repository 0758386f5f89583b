// The studio page: Create and Jobs & results side by side, Compare and Ranking on a second view.
import { api, ApiError } from "./api.js";
import type { Defaults, Job, ServerInfo } from "./api.js";
import { ComparePanel } from "./compare.js";
import { h, replaceChildren } from "./dom.js";
import { JobForm } from "./form.js";
import { ImagePicker } from "./images.js";
import { JobsPanel } from "./jobs.js";
import { mountNotices, showError, showInfo } from "./notices.js";
import { RankingPanel } from "./ranking.js";

type View = "studio" | "compare";

function panel(id: string, title: string, body: HTMLElement, extra?: HTMLElement): HTMLElement {
  return h(
    "section",
    { class: `panel panel-${id}`, "data-testid": `panel-${id}`, "aria-labelledby": `panel-${id}-title` },
    h("header", { class: "panel-head" }, h("h2", { id: `panel-${id}-title` }, title), extra ?? null),
    body,
  );
}

function describeServer(info: ServerInfo): string {
  const parts: string[] = [];
  if (info.version) parts.push(`impasto ${info.version}`);
  if (info.device) parts.push(String(info.device));
  if (info.workers) parts.push(`${info.workers} worker${info.workers === 1 ? "" : "s"}`);
  if (info.threads) parts.push(`${info.threads} threads`);
  return parts.join(" · ");
}

async function main(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  const notices = h("div", { class: "notices", "data-testid": "notices", "aria-live": "polite" });
  mountNotices(notices);
  const serverLine = h("span", { class: "server-line", "data-testid": "server-info" });
  const tabs = h("nav", { class: "view-tabs", "aria-label": "Views" });
  const main = h("main", { class: "views" }, h("p", { class: "loading" }, "Loading the studio…"));
  replaceChildren(
    root,
    h(
      "header",
      { class: "top" },
      h("div", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), h("h1", {}, "impasto", h("span", {}, " studio"))),
      tabs,
      serverLine,
    ),
    notices,
    main,
  );

  let info: ServerInfo = {};
  let defaults: Defaults;
  try {
    [info, defaults] = await Promise.all([api.info().catch(() => ({}) as ServerInfo), api.defaults()]);
  } catch (error) {
    replaceChildren(main, h("p", { class: "empty" }, "The studio could not load its settings from the server."));
    showError(error, "Loading /api/defaults");
    if (error instanceof ApiError && error.status === 401) {
      showInfo("This server was started with --token: open this page once with ?token=… in its address.");
    }
    return;
  }
  serverLine.textContent = describeServer(info);

  let form: JobForm;
  const images = new ImagePicker(
    () => info.limits?.max_upload_bytes,
    () => form?.imagesChanged(),
  );
  const ranking = new RankingPanel();
  let compare: ComparePanel;
  const jobs = new JobsPanel({
    rerun(job: Job) {
      form.prefill(job);
      show("studio");
      form.element.scrollIntoView({ behavior: "smooth", block: "start" });
    },
    compare(job: Job) {
      show("compare");
      compare.focusContent(job.content);
      void compare.next();
    },
  });
  form = new JobForm(defaults, images, (job) => {
    jobs.add(job);
    showInfo(`Job ${job.id} queued`);
  });
  compare = new ComparePanel(
    () => jobs.jobs(),
    (id) => images.find(id)?.name ?? id,
    () => void ranking.refresh(),
  );
  jobs.onJobChange((job) => {
    if (job.state === "done") compare.updateContents();
  });

  const studioView = h(
    "div",
    { class: "view view-studio", "data-testid": "view-studio" },
    panel("create", "Create", form.element),
    panel("jobs", "Jobs & results", jobs.element),
  );
  const compareView = h(
    "div",
    { class: "view view-compare", "data-testid": "view-compare" },
    panel("compare", "Compare", compare.element),
    panel("ranking", "Ranking", ranking.element),
  );
  replaceChildren(main, studioView, compareView);

  const views: [View, string][] = [
    ["studio", "Create & results"],
    ["compare", "Compare & rank"],
  ];
  function show(view: View): void {
    studioView.hidden = view !== "studio";
    compareView.hidden = view !== "compare";
    replaceChildren(
      tabs,
      views.map(([v, text]) =>
        h(
          "a",
          {
            href: `#${v}`,
            class: `view-tab${v === view ? " active" : ""}`,
            "aria-current": v === view ? "page" : null,
            "data-testid": `tab-${v}`,
          },
          text,
        ),
      ),
    );
    if (view === "compare") {
      compare.updateContents();
      void compare.next();
      void ranking.refresh();
    }
  }
  const fromHash = (): View => (window.location.hash === "#compare" ? "compare" : "studio");
  window.addEventListener("hashchange", () => show(fromHash()));

  try {
    await Promise.all([images.refresh(), jobs.refresh()]);
  } catch (error) {
    showError(error, "Loading images and jobs");
  }
  jobs.start();
  show(fromHash());
  root.dataset["ready"] = "true";
}

void main();
