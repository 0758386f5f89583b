import { h } from "./dom.js";
const TRANSFORMS = { adain: "AdaIN", wct: "WCT" };
// "the_scream" (a style of the model chosen), "AdaIN · udnie", "optimisation · udnie": the caption.
function exampleCaption(method, example) {
    if (method === "fast")
        return example.style;
    if (method === "arbitrary") {
        const transform = example.transform ?? "";
        return `${TRANSFORMS[transform] ?? transform} · ${example.style}`;
    }
    return `optimisation · ${example.style}`;
}
function exampleAlt(method, example, model) {
    if (method === "fast")
        return `Example: the sample photo by the model ${model ?? ""} in the style ${example.style}`;
    if (method === "arbitrary") {
        const transform = example.transform ?? "";
        return `Example: the sample photo by ${TRANSFORMS[transform] ?? transform} with the painting ${example.style}`;
    }
    return `Example: the sample photo by optimisation with the painting ${example.style}`;
}
export function exampleImage(method, example, model) {
    return h("img", {
        class: "example-image",
        src: example.url,
        alt: exampleAlt(method, example, model),
        width: example.width,
        height: example.height,
        decoding: "async",
        "data-testid": "example-image",
    });
}
// The picture on a method's tab: the chosen fast model's first style, or the method's first example.
export function tabExample(defaults, method, fastModel) {
    if (method === "fast") {
        const models = defaults.fast.models ?? [];
        const model = models.find((m) => m.name === fastModel && m.examples?.length) ?? models.find((m) => m.examples?.length);
        const example = model?.examples?.[0];
        return model && example ? exampleImage(method, example, model.name) : null;
    }
    const example = defaults[method].examples?.[0];
    return example ? exampleImage(method, example) : null;
}
// Captioned pictures in a row, below the parameters; null when there are none.
export function exampleStrip(method, examples, model) {
    if (examples.length === 0)
        return null;
    return h("div", { class: "example-strip", "data-testid": `examples-${method}` }, h("span", { class: "example-strip-title" }, "Examples on a sample photo"), h("div", { class: "example-row" }, examples.map((example) => h("figure", { class: "example", title: exampleCaption(method, example) }, exampleImage(method, example, model), h("figcaption", {}, exampleCaption(method, example))))));
}
// The fast models as buttons with their first example: a click chooses the model, as the select does.
export function modelPicker(models, current, choose) {
    if (!models.some((m) => m.examples?.length))
        return null;
    return h("div", { class: "model-picker", role: "radiogroup", "aria-label": "Model", "data-testid": "model-picker" }, models.map((model) => {
        const example = model.examples?.[0];
        return h("button", {
            type: "button",
            role: "radio",
            class: `model-choice${model.name === current ? " selected" : ""}`,
            "aria-checked": model.name === current ? "true" : "false",
            "data-testid": "model-choice",
            "data-model": model.name,
            title: `${model.name}: ${model.styles.join(", ")}`,
            onclick: () => choose(model.name),
        }, example ? exampleImage("fast", example, model.name) : h("span", { class: "example-missing" }, "no example"), h("span", { class: "model-choice-name" }, model.name));
    }));
}
