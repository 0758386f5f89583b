// Choosing the images of a job: the content photo (sample photos and uploads) and one or more
// style images (the gallery's paintings and uploads). Files are uploaded by picking or dropping.
import { api, ApiError, urls } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { showError, showInfo } from "./notices.js";
export class ImagePicker {
    constructor(maxUploadBytes, onChange) {
        this.maxUploadBytes = maxUploadBytes;
        this.onChange = onChange;
        this.lists = { gallery: [], samples: [], uploads: [] };
        this.contentId = "";
        this.styleIds = [];
        this.multipleStyles = true;
        this.contentGrid = h("div", { class: "thumb-grid", "data-testid": "content-options" });
        this.styleGrid = h("div", { class: "thumb-grid", "data-testid": "style-options" });
        this.contentSummary = h("div", { class: "picker-summary", "data-testid": "content-selected" });
        this.styleSummary = h("div", { class: "picker-summary", "data-testid": "style-selected" });
        this.contentSection = this.section("content", "Content photo", this.contentSummary, this.contentGrid);
        this.styleSection = this.section("style", "Style", this.styleSummary, this.styleGrid);
    }
    get content() {
        return this.contentId;
    }
    get styles() {
        return [...this.styleIds];
    }
    find(id) {
        const { gallery, samples, uploads } = this.lists;
        return [...uploads, ...gallery, ...samples].find((image) => image.id === id);
    }
    // One style for the fast method's absent picker, several for the others.
    setMultipleStyles(multiple) {
        this.multipleStyles = multiple;
        if (!multiple && this.styleIds.length > 1)
            this.styleIds = this.styleIds.slice(0, 1);
        this.render();
    }
    select(content, styles) {
        this.contentId = content;
        this.styleIds = [...styles];
        this.render();
        this.onChange();
    }
    async refresh() {
        this.lists = await api.images();
        const known = new Set([...this.lists.gallery, ...this.lists.samples, ...this.lists.uploads].map((i) => i.id));
        if (this.contentId && !known.has(this.contentId))
            this.contentId = "";
        this.styleIds = this.styleIds.filter((id) => known.has(id));
        this.render();
    }
    section(role, title, summary, grid) {
        const input = h("input", {
            type: "file",
            accept: "image/png,image/jpeg,image/bmp,image/tiff,image/webp",
            class: "visually-hidden",
            id: `${role}-file`,
            "data-testid": `${role}-file`,
        });
        input.addEventListener("change", () => {
            const file = input.files?.[0];
            input.value = "";
            if (file)
                void this.upload(file, role);
        });
        const drop = h("label", { class: "drop-zone", for: `${role}-file`, "data-testid": `${role}-drop` }, h("span", { class: "drop-icon", "aria-hidden": "true" }, "⤒"), h("span", {}, h("strong", {}, "Upload"), " or drop an image"), h("span", { class: "drop-formats" }, "PNG, JPEG, BMP, TIFF, WebP"));
        drop.addEventListener("dragover", (event) => {
            event.preventDefault();
            drop.classList.add("dragging");
        });
        drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
        drop.addEventListener("drop", (event) => {
            event.preventDefault();
            drop.classList.remove("dragging");
            const file = event.dataTransfer?.files[0];
            if (file)
                void this.upload(file, role);
        });
        return h("fieldset", { class: `picker picker-${role}`, "data-testid": `${role}-picker` }, h("legend", {}, title), summary, h("div", { class: "picker-body" }, drop, input, grid));
    }
    async upload(file, role) {
        const limit = this.maxUploadBytes();
        if (limit && file.size > limit) {
            showError(new ApiError(413, "too_large", `${file.name} is ${mb(file.size)}; this server takes up to ${mb(limit)}`));
            return;
        }
        const section = role === "content" ? this.contentSection : this.styleSection;
        section.classList.add("busy");
        try {
            const image = await api.upload(file);
            await this.refresh();
            if (role === "content") {
                this.contentId = image.id;
            }
            else {
                this.styleIds = [image.id];
            }
            this.render();
            this.onChange();
            showInfo(`Uploaded ${image.name} (${image.width}×${image.height})`);
        }
        catch (error) {
            showError(error, `Uploading ${file.name}`);
        }
        finally {
            section.classList.remove("busy");
        }
    }
    // A click chooses one style; Ctrl-, Cmd- or Shift-click adds or removes one, to blend several.
    pickStyle(id, event) {
        const adding = this.multipleStyles && (event.ctrlKey || event.metaKey || event.shiftKey);
        if (!adding) {
            this.styleIds = [id];
        }
        else if (this.styleIds.includes(id)) {
            this.styleIds = this.styleIds.filter((s) => s !== id);
        }
        else {
            this.styleIds = [...this.styleIds, id];
        }
        this.render();
        this.onChange();
    }
    render() {
        const { gallery, samples, uploads } = this.lists;
        replaceChildren(this.contentGrid, group("Your uploads", uploads, (image) => this.thumb(image, "content", this.contentId === image.id, () => this.pickContent(image.id))), group("Sample photos", samples, (image) => this.thumb(image, "content", this.contentId === image.id, () => this.pickContent(image.id))), uploads.length + samples.length === 0 ? h("p", { class: "empty" }, "Upload a photo to start.") : null);
        replaceChildren(this.styleGrid, group("Paintings", gallery, (image) => this.thumb(image, "style", this.styleIds.includes(image.id), (e) => this.pickStyle(image.id, e))), group("Your uploads", uploads, (image) => this.thumb(image, "style", this.styleIds.includes(image.id), (e) => this.pickStyle(image.id, e))), uploads.length + gallery.length === 0 ? h("p", { class: "empty" }, "Upload a painting to use as a style.") : null);
        replaceChildren(this.contentSummary, this.summary([this.contentId], "No photo chosen"));
        replaceChildren(this.styleSummary, this.summary(this.styleIds, "No style chosen"), this.multipleStyles ? h("span", { class: "picker-hint muted" }, "Ctrl-click to blend several") : null);
    }
    pickContent(id) {
        this.contentId = id;
        this.render();
        this.onChange();
    }
    summary(ids, empty) {
        const chosen = ids.filter((id) => id !== "");
        if (chosen.length === 0)
            return [h("span", { class: "muted" }, empty)];
        return chosen.map((id) => {
            const image = this.find(id);
            return h("span", { class: "chip", title: id }, h("img", { src: urls.thumb(id, 64), alt: "", loading: "lazy" }), image ? `${image.name} · ${image.width}×${image.height}` : id);
        });
    }
    thumb(image, role, selected, pick) {
        const order = role === "style" && this.styleIds.length > 1 ? this.styleIds.indexOf(image.id) + 1 : 0;
        return h("button", {
            type: "button",
            class: `thumb${selected ? " selected" : ""}`,
            title: `${image.name} · ${image.width}×${image.height} · ${image.id}`,
            "aria-pressed": selected ? "true" : "false",
            "data-testid": `${role}-option`,
            "data-image-id": image.id,
            onclick: (event) => pick(event),
        }, h("img", { src: urls.server(image.thumb_url || `/api/images/${image.id}?size=256`), alt: image.name, loading: "lazy" }), h("span", { class: "thumb-name" }, image.name), order > 0 ? h("span", { class: "thumb-order" }, String(order)) : null);
    }
}
function group(title, images, render) {
    if (images.length === 0)
        return null;
    return h("div", { class: "thumb-group" }, h("h4", {}, title), h("div", { class: "thumbs" }, images.map(render)));
}
function mb(bytes) {
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
