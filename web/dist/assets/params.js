import { h } from "./dom.js";
// Everything that is not a list prints as itself; lists as "a, b, c".
export function formatValue(value) {
    if (value === null || value === undefined)
        return "";
    if (Array.isArray(value))
        return value.join(", ");
    return String(value);
}
export function sameValue(a, b) {
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
function parse(spec, text) {
    const trimmed = text.trim();
    switch (spec.type) {
        case "integer": {
            if (trimmed === "" || !/^-?\d+$/.test(trimmed))
                return { value: null, error: "expected a whole number" };
            return { value: Number(trimmed), error: null };
        }
        case "number": {
            const n = Number(trimmed);
            if (trimmed === "" || !Number.isFinite(n))
                return { value: null, error: "expected a number" };
            return { value: n, error: null };
        }
        case "numbers": {
            if (trimmed === "")
                return { value: [], error: null };
            const items = trimmed.split(/[\s,]+/).filter((s) => s !== "");
            const numbers = items.map(Number);
            const bad = items.find((_, i) => !Number.isFinite(numbers[i]));
            if (bad !== undefined)
                return { value: null, error: `'${bad}' is not a number` };
            return { value: numbers, error: null };
        }
        case "texts": {
            if (trimmed === "")
                return { value: [], error: null };
            return { value: trimmed.split(/[\s,]+/).filter((s) => s !== ""), error: null };
        }
        case "text":
        default:
            return { value: trimmed, error: null };
    }
}
const PLACEHOLDERS = {
    numbers: "comma-separated numbers; empty = none",
    texts: "comma-separated names; empty = none",
};
// `choices` overrides the spec's (the fast method's models come from elsewhere in /api/defaults).
export function createParamField(spec, initial, onChange, choices) {
    let baseline = initial;
    const id = `param-${spec.name}`;
    const options = choices ?? spec.choices;
    let input;
    let write;
    if (options && options.length > 0) {
        const select = h("select", { id, name: spec.name, "data-testid": id });
        write = (current) => {
            select.replaceChildren(...options.map((c) => h("option", { value: c }, c)));
            if (!options.includes(current)) {
                select.appendChild(h("option", { value: current }, current === "" ? "(none)" : current)); // an older model
            }
            select.value = current;
        };
        input = select;
    }
    else {
        const numeric = spec.type === "integer" || spec.type === "number";
        input = h("input", {
            id,
            name: spec.name,
            "data-testid": id,
            type: numeric ? "number" : "text",
            step: spec.type === "integer" ? "1" : numeric ? "any" : null,
            inputmode: spec.type === "integer" ? "numeric" : spec.type === "number" ? "decimal" : null,
            placeholder: PLACEHOLDERS[spec.type] ?? (spec.name === "schedule" ? "empty = one scale" : null),
            spellcheck: "false",
            autocomplete: "off",
        });
        write = (text) => {
            input.value = text;
        };
    }
    write(formatValue(initial));
    const message = h("span", { class: "field-error", "data-testid": `${id}-error` });
    const reset = h("button", { type: "button", class: "field-reset", title: "Back to the default" }, "↺");
    const defaultNote = h("span", { class: "field-default" });
    const label = h("label", { for: id, class: "field-name" }, spec.name.replace(/_/g, " "));
    const row = h("div", { class: "field", "data-param": spec.name }, h("div", { class: "field-head" }, label, defaultNote, reset), input, spec.help ? h("div", { class: "field-help" }, spec.help) : null, message);
    const field = {
        spec,
        element: row,
        get: () => parse(spec, input.value),
        set(value) {
            write(formatValue(value));
            update();
        },
        setBaseline(value) {
            baseline = value;
            update();
        },
        isChanged() {
            const { value, error } = parse(spec, input.value);
            return error !== null || !sameValue(value, baseline);
        },
    };
    function update() {
        const { error } = parse(spec, input.value);
        const changed = field.isChanged();
        row.classList.toggle("changed", changed);
        row.classList.toggle("invalid", error !== null);
        message.textContent = error ?? "";
        const shown = formatValue(baseline);
        defaultNote.textContent = changed ? `default ${shown === "" ? "(empty)" : shown}` : "";
        defaultNote.title = defaultNote.textContent;
        reset.hidden = !changed;
    }
    reset.addEventListener("click", () => {
        field.set(baseline);
        onChange();
    });
    input.addEventListener("input", () => {
        update();
        onChange();
    });
    input.addEventListener("change", () => {
        update();
        onChange();
    });
    update();
    return field;
}
