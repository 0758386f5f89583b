// The Create panel: the method, the images and the parameters of a new job. Every parameter and
// its default comes from GET /api/defaults; only the values that differ from the defaults (of the
// chosen preset, for optimisation) are sent, so the server's label names what was changed.
import { api } from "./api.js";
import type { Defaults, Job, JobSubmission, Method, MethodDefaults, ParamValue } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { exampleStrip, modelPicker, tabExample } from "./examples.js";
import { ImagePicker } from "./images.js";
import { showError, showInfo } from "./notices.js";
import { createParamField, sameValue } from "./params.js";
import type { ParamField } from "./params.js";

const METHODS: { method: Method; title: string; blurb: string }[] = [
  { method: "optimisation", title: "Optimisation", blurb: "Gatys et al.: any style, best quality, minutes" },
  { method: "fast", title: "Fast model", blurb: "a trained network: its own styles, under a second" },
  { method: "arbitrary", title: "Arbitrary style", blurb: "AdaIN / WCT: any style in one pass, seconds" },
];

// Shown under "More parameters"; the rest are on view.
const ADVANCED = new Set([
  "content_layers",
  "style_layers",
  "tv_weight",
  "optimizer",
  "pooling",
  "loss_scaling",
  "style_scale",
  "precision",
  "style_blend",
  "levels",
  "init",
]);

export class JobForm {
  readonly element: HTMLElement;
  private method: Method = "optimisation";
  private fastModel = ""; // the fast model chosen last, whose example the fast tab shows
  private fields = new Map<string, ParamField>();
  private parent: Job | null = null;
  private readonly methodTabs = h("div", { class: "method-tabs", role: "radiogroup", "aria-label": "Method" });
  private readonly paramsBox = h("div", { class: "params", "data-testid": "params" });
  private readonly parentBanner = h("div", { class: "parent-banner", "data-testid": "rerun-banner", hidden: true });
  private readonly methodNote = h("p", { class: "method-note", "data-testid": "method-note" });
  private readonly exampleBox = h("div", { class: "example-box" }); // the method's examples, the fast models' picker
  private readonly startButton = h(
    "button",
    { type: "submit", class: "primary", "data-testid": "start-job" },
    "Start",
  ) as HTMLButtonElement;
  private readonly readiness = h("span", { class: "readiness muted", "data-testid": "start-hint" });

  constructor(
    private readonly defaults: Defaults,
    readonly images: ImagePicker,
    private readonly onSubmitted: (job: Job) => void,
  ) {
    const form = h(
      "form",
      { class: "job-form", "data-testid": "job-form", novalidate: true },
      this.parentBanner,
      h("fieldset", { class: "method-fieldset" }, h("legend", {}, "Method"), this.methodTabs, this.methodNote, this.exampleBox),
      images.contentSection,
      images.styleSection,
      h("fieldset", { class: "params-fieldset" }, h("legend", {}, "Parameters"), this.paramsBox),
      h("div", { class: "form-actions" }, this.startButton, this.readiness),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.element = form;
    const first = METHODS.find((m) => this.spec(m.method).available)?.method ?? "optimisation";
    this.setMethod(first);
  }

  private spec(method: Method): MethodDefaults {
    return this.defaults[method];
  }

  // Defaults the fields are compared against: the chosen preset's, for optimisation.
  private baseline(method: Method, values?: Record<string, ParamValue>): Record<string, ParamValue> {
    const spec = this.spec(method);
    const preset = values?.["preset"];
    if (method === "optimisation" && typeof preset === "string" && spec.presets?.[preset]) {
      return spec.presets[preset];
    }
    return spec.defaults;
  }

  setMethod(method: Method, values?: Record<string, ParamValue>): void {
    this.method = method;
    const spec = this.spec(method);
    this.methodNote.textContent =
      method === "fast" ? "The network holds its styles: choose a model below; no style image is needed." : "";
    this.images.styleSection.hidden = method === "fast";
    this.images.setMultipleStyles(method !== "fast");
    this.buildFields(values);
    this.renderTabs();
    this.updateReadiness();
    if (!spec.available) this.methodNote.textContent = unavailableReason(method);
  }

  // Each tab shows an example of its method: for the fast one, of the model chosen (or last chosen).
  private renderTabs(): void {
    if (this.method === "fast") this.fastModel = String(this.fields.get("model")?.get().value ?? "");
    replaceChildren(
      this.methodTabs,
      METHODS.map((m) => {
        const available = this.spec(m.method).available;
        const example = available ? tabExample(this.defaults, m.method, this.fastModel) : null;
        return h(
          "button",
          {
            type: "button",
            role: "radio",
            class: `method-tab${m.method === this.method ? " active" : ""}`,
            "aria-checked": m.method === this.method ? "true" : "false",
            "data-testid": `method-${m.method}`,
            disabled: !available,
            title: available ? m.blurb : unavailableReason(m.method),
            onclick: () => this.setMethod(m.method),
          },
          example,
          h(
            "span",
            { class: "method-text" },
            h("span", { class: "method-title" }, m.title),
            h("span", { class: "method-blurb" }, available ? m.blurb : unavailableReason(m.method)),
          ),
        );
      }),
    );
  }

  private buildFields(values?: Record<string, ParamValue>): void {
    const spec = this.spec(this.method);
    const baseline = this.baseline(this.method, values);
    const start = { ...baseline, ...(values ?? {}) };
    this.fields = new Map();
    const basic: HTMLElement[] = [];
    const advanced: HTMLElement[] = [];
    for (const param of spec.parameters) {
      let choices: string[] | undefined;
      if (this.method === "fast" && param.name === "model") choices = (spec.models ?? []).map((m) => m.name);
      if (this.method === "optimisation" && param.name === "preset" && spec.presets) choices = Object.keys(spec.presets);
      const field = createParamField(param, start[param.name] ?? null, () => this.fieldChanged(param.name), choices);
      field.setBaseline(baseline[param.name] ?? null);
      this.fields.set(param.name, field);
      (ADVANCED.has(param.name) ? advanced : basic).push(field.element);
    }
    const extra = this.methodExtras();
    replaceChildren(this.exampleBox, this.methodExamples(String(start["model"] ?? "")));
    replaceChildren(
      this.paramsBox,
      h("div", { class: "field-grid" }, basic),
      extra,
      advanced.length
        ? h(
            "details",
            { class: "more-params", "data-testid": "more-params" },
            h("summary", {}, `More parameters (${advanced.length})`),
            h("div", { class: "field-grid" }, advanced),
          )
        : null,
    );
  }

  // What the method can use on this server: the chosen model's styles, the decoder levels.
  private methodExtras(): HTMLElement | null {
    const spec = this.spec(this.method);
    if (this.method === "fast") {
      const name = this.fields.get("model")?.get().value;
      const model = (spec.models ?? []).find((m) => m.name === name);
      if (!model) return null;
      return h("p", { class: "field-help extras" }, `Styles of ${model.name}: ${model.styles.join(", ") || "—"}`);
    }
    if (this.method === "arbitrary" && spec.levels?.length) {
      return h("p", { class: "field-help extras" }, `Decoder levels installed: ${spec.levels.join(", ")}`);
    }
    return null;
  }

  // Under the tabs: the fast models with their examples and the chosen one's per style; the other
  // methods' examples. A single picture is left out where a tab or button shows it already.
  private methodExamples(model: string): (HTMLElement | null)[] {
    const spec = this.spec(this.method);
    if (!spec.available) return [];
    if (this.method === "fast") {
      const models = spec.models ?? [];
      const examples = models.find((m) => m.name === model)?.examples ?? [];
      return [
        modelPicker(models, model, (chosen) => this.chooseModel(chosen)),
        examples.length > 1 ? exampleStrip("fast", examples, model) : null,
      ];
    }
    const examples = spec.examples ?? [];
    return [examples.length > 1 ? exampleStrip(this.method, examples) : null];
  }

  private chooseModel(name: string): void {
    this.fields.get("model")?.set(name);
    this.fieldChanged("model");
  }

  private fieldChanged(name: string): void {
    if (this.method === "optimisation" && name === "preset") {
      const preset = this.fields.get("preset")?.get().value;
      const values = this.baseline("optimisation", { preset: preset ?? "default" });
      this.buildFields({ ...values });
      showInfo(`Parameters set to the defaults of preset '${String(preset)}'`);
    } else if (this.method === "fast" && name === "model") {
      const current = this.currentValues();
      this.buildFields(current);
      this.renderTabs();
    }
    this.updateReadiness();
  }

  private currentValues(): Record<string, ParamValue> {
    const values: Record<string, ParamValue> = {};
    for (const [name, field] of this.fields) {
      const { value, error } = field.get();
      if (error === null) values[name] = value;
    }
    return values;
  }

  imagesChanged(): void {
    this.updateReadiness();
  }

  private missing(): string | null {
    if (!this.spec(this.method).available) return unavailableReason(this.method);
    if (!this.images.content) return "Choose or upload a content photo";
    if (this.method !== "fast" && this.images.styles.length === 0) return "Choose a style image";
    const invalid = [...this.fields.values()].find((f) => f.get().error !== null);
    if (invalid) return `Check ${invalid.spec.name}: ${invalid.get().error}`;
    return null;
  }

  private updateReadiness(): void {
    const missing = this.missing();
    this.startButton.disabled = missing !== null;
    this.startButton.textContent = this.parent ? "Start re-run" : "Start";
    this.readiness.textContent = missing ?? this.changedSummary();
  }

  private changedSummary(): string {
    const changed = [...this.fields.values()].filter((f) => f.isChanged()).map((f) => f.spec.name);
    return changed.length ? `Changed from the defaults: ${changed.join(", ")}` : "All parameters at their defaults";
  }

  // Pre-fills the form from a job, to re-run it with changes; the new job names it as its parent.
  prefill(job: Job): void {
    this.parent = job;
    this.setMethod(job.method, job.params);
    this.images.select(job.content, job.styles);
    replaceChildren(
      this.parentBanner,
      h("span", {}, "Re-running ", h("strong", {}, job.settings_label || job.id), ": change what you like and start."),
      h("button", { type: "button", class: "link", "data-testid": "rerun-clear", onclick: () => this.clearParent(true) }, "Start afresh"),
    );
    this.parentBanner.hidden = false;
    this.updateReadiness();
  }

  // After a re-run is submitted the values stay, to be changed again; "Start afresh" resets them.
  private clearParent(reset: boolean): void {
    this.parent = null;
    this.parentBanner.hidden = true;
    if (reset) this.setMethod(this.method);
    this.updateReadiness();
  }

  private request(): JobSubmission {
    const params: Record<string, ParamValue> = {};
    const baseline = this.baseline(this.method, this.currentValues());
    for (const [name, field] of this.fields) {
      const { value } = field.get();
      const isPreset = this.method === "optimisation" && name === "preset";
      if (isPreset || !sameValue(value, baseline[name])) params[name] = value;
    }
    const body: JobSubmission = {
      method: this.method,
      content: this.images.content,
      styles: this.method === "fast" ? [] : this.images.styles,
      params,
    };
    if (this.parent) body.parent = this.parent.id;
    return body;
  }

  private async submit(): Promise<void> {
    const missing = this.missing();
    if (missing) {
      showError(new Error(missing));
      return;
    }
    this.startButton.disabled = true;
    try {
      const job = await api.submit(this.request());
      this.onSubmitted(job);
      if (this.parent) this.clearParent(false);
    } catch (error) {
      showError(error, "Starting the job");
    } finally {
      this.updateReadiness();
    }
  }
}

function unavailableReason(method: Method): string {
  if (method === "fast") return "No fast-style model is installed on this server (impasto models, impasto train).";
  if (method === "arbitrary") return "No decoders are installed on this server for arbitrary style.";
  return "Not available on this server.";
}
