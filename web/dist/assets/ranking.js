// The Ranking panel: the Bradley–Terry fit over every vote (GET /api/ranking), with the votes
// behind it, and both as CSV.
import { api, urls } from "./api.js";
import { formatNumber, h, replaceChildren } from "./dom.js";
import { showError } from "./notices.js";
export class RankingPanel {
    constructor() {
        this.votes = h("span", { class: "ranking-votes", "data-testid": "ranking-votes" });
        this.body = h("div", { class: "ranking-body" });
        this.element = h("div", { class: "ranking" }, h("div", { class: "panel-toolbar" }, this.votes, h("span", { class: "exports" }, h("a", { class: "button", href: urls.votesCsv(), download: true, "data-testid": "export-votes" }, "Votes CSV"), h("a", { class: "button", href: urls.rankingCsv(), download: true, "data-testid": "export-ranking" }, "Ranking CSV"), h("button", { type: "button", "data-testid": "ranking-refresh", onclick: () => void this.refresh() }, "Refresh"))), this.body);
    }
    async refresh() {
        try {
            this.render(await api.ranking());
        }
        catch (error) {
            showError(error, "Loading the ranking");
        }
    }
    render(ranking) {
        this.votes.textContent = `${ranking.votes} vote${ranking.votes === 1 ? "" : "s"}`;
        this.votes.dataset["votes"] = String(ranking.votes);
        if (ranking.items.length === 0) {
            replaceChildren(this.body, h("p", { class: "empty", "data-testid": "ranking-empty" }, "No votes yet: compare a pair of results to start the ranking."));
            return;
        }
        const scores = ranking.items.map((item) => item.score);
        const low = Math.min(...scores);
        const span = Math.max(...scores) - low || 1;
        replaceChildren(this.body, h("table", { class: "ranking-table", "data-testid": "ranking-table" }, h("thead", {}, h("tr", {}, h("th", { class: "num" }, "#"), h("th", {}, "Settings"), h("th", { class: "num", title: "results made with these settings" }, "Jobs"), h("th", { class: "num" }, "Won"), h("th", { class: "num" }, "Lost"), h("th", { class: "num" }, "Compared"), h("th", { title: "Bradley–Terry strength (geometric mean 1) and its log, the score" }, "Strength"))), h("tbody", {}, ranking.items.map((item) => h("tr", { "data-testid": "ranking-row", "data-settings-key": item.settings_key, "data-comparisons": item.comparisons }, h("td", { class: "num rank" }, String(item.rank)), h("td", { class: "label", title: `${item.method} · ${item.settings_key}` }, item.label), h("td", { class: "num" }, String(item.jobs)), h("td", { class: "num", "data-testid": "ranking-wins" }, String(item.wins)), h("td", { class: "num" }, String(item.losses)), h("td", { class: "num", "data-testid": "ranking-comparisons" }, String(item.comparisons)), h("td", { class: "strength", title: `score (log strength) ${formatNumber(item.score)}` }, bar((8 + (92 * (item.score - low)) / span).toFixed(1)), h("span", { class: "strength-value" }, formatNumber(item.strength))))))));
    }
}
// Set through the CSSOM, which a Content-Security-Policy without 'unsafe-inline' allows.
function bar(percent) {
    const el = h("span", { class: "strength-bar" });
    el.style.width = `${percent}%`;
    return el;
}
