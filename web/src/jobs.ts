// The Jobs & results panel: every job, newest first, kept live. Running and queued jobs are
// watched over event streams (a few at a time; the server caps open streams), the rest polled.
import { api } from "./api.js";
import type { Job } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { JobCard } from "./job_card.js";
import type { CardActions } from "./job_card.js";
import { showError, showInfo } from "./notices.js";
import { isTerminal, JobWatcher } from "./watch.js";

const MAX_STREAMS = 6;
const POLL_MS = 4000;

type Filter = "all" | "active" | "done" | "failed";

export class JobsPanel {
  readonly element: HTMLElement;
  private readonly cards = new Map<string, JobCard>();
  private readonly watchers = new Map<string, JobWatcher>();
  private readonly list = h("div", { class: "job-list", "data-testid": "job-list" });
  private readonly counts = h("span", { class: "muted", "data-testid": "job-counts" });
  private readonly filters = h("div", { class: "filters", role: "tablist" });
  private filter: Filter = "all";
  private pollTimer = 0;
  private polls = 0;
  private readonly listeners: ((job: Job) => void)[] = [];
  private readonly seen = new Map<string, number>(); // order of arrival: ties within a second

  constructor(private readonly actions: Omit<CardActions, "cancel">) {
    this.element = h(
      "div",
      { class: "jobs" },
      h("div", { class: "panel-toolbar" }, this.filters, this.counts),
      this.list,
    );
    this.renderFilters();
  }

  // Called with each job whose state changed (the compare view listens for new results).
  onJobChange(listener: (job: Job) => void): void {
    this.listeners.push(listener);
  }

  jobs(): Job[] {
    return [...this.cards.values()].map((card) => card.data);
  }

  async refresh(): Promise<void> {
    const jobs = await api.jobs({ limit: 200 });
    for (const job of [...jobs].reverse()) this.upsert(job); // oldest first
    this.render();
    this.ensureWatching();
  }

  start(): void {
    window.clearInterval(this.pollTimer);
    this.pollTimer = window.setInterval(() => void this.poll(), POLL_MS);
  }

  // A job just submitted: shown at once, watched at once.
  add(job: Job): void {
    this.upsert(job);
    this.render();
    this.ensureWatching();
    this.cards.get(job.id)?.element.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  private upsert(job: Job): JobCard {
    let card = this.cards.get(job.id);
    const before = card?.state;
    if (card) {
      card.update(job);
    } else {
      card = new JobCard(job, { ...this.actions, cancel: (j) => void this.cancel(j) });
      this.cards.set(job.id, card);
      this.seen.set(job.id, this.seen.size);
    }
    if (before !== job.state) for (const listener of this.listeners) listener(job);
    return card;
  }

  private async cancel(job: Job): Promise<void> {
    try {
      const updated = await api.cancel(job.id);
      this.upsert(updated);
      this.render();
      showInfo(updated.state === "cancelled" ? "Job cancelled" : "Cancelling: the job stops at its next step");
    } catch (error) {
      showError(error, "Cancelling the job");
    }
  }

  private ensureWatching(): void {
    for (const [id, watcher] of this.watchers) {
      const card = this.cards.get(id);
      if (!watcher.open || !card || isTerminal(card.state)) {
        watcher.close();
        this.watchers.delete(id);
      }
    }
    // Oldest first: the running job before the queued ones behind it.
    const waiting = [...this.cards.values()]
      .filter((card) => !isTerminal(card.state) && !this.watchers.has(card.data.id))
      .reverse();
    for (const card of waiting) {
      if (this.watchers.size >= MAX_STREAMS) break;
      this.watch(card);
    }
  }

  private watch(card: JobCard): void {
    const id = card.data.id;
    const watcher = new JobWatcher(id, {
      state: (job) => {
        this.upsert(job);
        this.render();
        if (isTerminal(job.state)) {
          this.watchers.delete(id);
          this.ensureWatching();
        }
      },
      progress: (progress) => this.cards.get(id)?.progress(progress),
      preview: (preview) => this.cards.get(id)?.preview(preview.url, preview.seq),
      lost: () => {
        this.watchers.delete(id); // polled until a slot frees up
      },
    });
    this.watchers.set(id, watcher);
  }

  // Jobs not watched (too many streams, or submitted elsewhere) are refreshed by polling.
  private async poll(): Promise<void> {
    if (document.hidden) return;
    const unwatched = [...this.cards.values()].filter((c) => !isTerminal(c.state) && !this.watchers.has(c.data.id));
    this.polls += 1;
    try {
      // Quickly while a job goes unwatched; now and then otherwise (jobs submitted from elsewhere).
      if (unwatched.length > 0 || this.polls % 5 === 0) {
        await this.refresh();
      }
    } catch {
      // The next poll tries again; a lasting failure shows up on the next action.
    }
  }

  private matches(job: Job): boolean {
    switch (this.filter) {
      case "active":
        return !isTerminal(job.state);
      case "done":
        return job.state === "done";
      case "failed":
        return job.state === "failed" || job.state === "cancelled";
      default:
        return true;
    }
  }

  private renderFilters(): void {
    const names: [Filter, string][] = [
      ["all", "All"],
      ["active", "Active"],
      ["done", "Results"],
      ["failed", "Failed"],
    ];
    replaceChildren(
      this.filters,
      names.map(([filter, text]) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            class: `filter${filter === this.filter ? " active" : ""}`,
            "aria-selected": filter === this.filter ? "true" : "false",
            "data-testid": `jobs-filter-${filter}`,
            onclick: () => {
              this.filter = filter;
              this.renderFilters();
              this.render();
            },
          },
          text,
        ),
      ),
    );
  }

  private render(): void {
    const cards = [...this.cards.values()].sort(
      (a, b) =>
        (b.data.created_at ?? "").localeCompare(a.data.created_at ?? "") ||
        (this.seen.get(b.data.id) ?? 0) - (this.seen.get(a.data.id) ?? 0),
    );
    const shown = cards.filter((card) => this.matches(card.data));
    // Re-append in order: existing nodes move, keeping their images and open details.
    for (const [index, card] of shown.entries()) {
      if (this.list.children[index] !== card.element) this.list.insertBefore(card.element, this.list.children[index] ?? null);
    }
    while (this.list.children.length > shown.length) this.list.lastElementChild?.remove();
    if (shown.length === 0) {
      this.list.appendChild(
        h(
          "p",
          { class: "empty", "data-testid": "jobs-empty" },
          this.cards.size === 0 ? "No jobs yet. Choose a photo and a style, then press Start." : "No job matches this filter.",
        ),
      );
    }
    const active = cards.filter((c) => !isTerminal(c.state)).length;
    const done = cards.filter((c) => c.state === "done").length;
    this.counts.textContent = `${done} result${done === 1 ? "" : "s"}${active ? ` · ${active} active` : ""}`;
  }
}
