#!/usr/bin/env python3
"""A contact sheet of downscaled outputs with row and column labels (needs Pillow).

    docs/stylebank_contact_sheet.py OUT.png --cols "a,b,c" --row "label:img1,img2,img3" [--row ...] [--side 200]

Only the outputs are shown, downscaled; never the input photos or paintings themselves.
"""
import argparse

from PIL import Image, ImageDraw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--cols", required=True)
    parser.add_argument("--row", action="append", required=True)
    parser.add_argument("--side", type=int, default=200)
    args = parser.parse_args()
    cols = args.cols.split(",")
    rows = []
    for row in args.row:
        label, files = row.split(":", 1)
        rows.append((label, files.split(",")))
    side, label_w, label_h, pad = args.side, 170, 18, 4
    sheet = Image.new("RGB", (label_w + len(cols) * (side + pad), label_h + len(rows) * (side + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(cols):
        draw.text((label_w + c * (side + pad) + 4, 3), name, fill="black")
    for r, (label, files) in enumerate(rows):
        y = label_h + r * (side + pad)
        for i, line in enumerate(label.split("|")):
            draw.text((4, y + 4 + 14 * i), line, fill="black")
        for c, file in enumerate(files):
            if not file:
                continue
            image = Image.open(file).convert("RGB")
            image.thumbnail((side, side), Image.LANCZOS)
            x = label_w + c * (side + pad)
            sheet.paste(image, (x + (side - image.width) // 2, y + (side - image.height) // 2))
    # 256 colours keep the file small enough for the repository; the outputs are the point, not their last bit.
    sheet.quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(args.output, optimize=True)


if __name__ == "__main__":
    main()
