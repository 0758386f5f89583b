// The message strip under the header: API errors in the words the server chose, and short notes.
import { ApiError } from "./api.js";
import { h } from "./dom.js";
let strip = null;
export function mountNotices(el) {
    strip = el;
}
function show(kind, text, detail) {
    if (!strip)
        return;
    const note = h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status", "data-testid": `notice-${kind}` }, h("span", { class: "notice-text" }, text), detail ? h("code", { class: "notice-code" }, detail) : null, h("button", { class: "notice-close", type: "button", "aria-label": "Dismiss", onclick: () => note.remove() }, "×"));
    strip.appendChild(note);
    while (strip.children.length > 4)
        strip.firstElementChild?.remove();
    if (kind === "info")
        setTimeout(() => note.remove(), 4000);
}
export function showError(error, context) {
    const prefix = context ? `${context}: ` : "";
    if (error instanceof ApiError) {
        show("error", prefix + error.message, error.status ? `${error.code} · HTTP ${error.status}` : error.code);
    }
    else {
        show("error", prefix + (error instanceof Error ? error.message : String(error)));
    }
}
export function showInfo(text) {
    show("info", text);
}
