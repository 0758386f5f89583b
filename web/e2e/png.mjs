// Small synthetic PNGs for the end-to-end test: no image library, just zlib.
import { deflateSync } from "node:zlib";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

// pixel(x, y) -> [r, g, b], 0..255. An 8-bit RGB PNG.
export function encodePng(width, height, pixel) {
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[row + 1 + x * 3] = r;
      raw[row + 2 + x * 3] = g;
      raw[row + 3 + x * 3] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));

// A "photo": sky, hills, a sun and a house, at an odd size.
export function contentPng(width = 157, height = 118) {
  return encodePng(width, height, (x, y) => {
    const u = x / width;
    const v = y / height;
    const hill = 0.62 + 0.08 * Math.sin(u * 7.0) + 0.05 * Math.sin(u * 17.0 + 1.3);
    const sun = Math.hypot(u - 0.75, v - 0.25) < 0.09;
    const house = u > 0.2 && u < 0.38 && v > 0.48 && v < hill + 0.05;
    const roof = u > 0.17 && u < 0.41 && v > 0.38 && v <= 0.48 && Math.abs(u - 0.29) < (v - 0.38) * 1.25;
    if (sun) return [250, 214, 90];
    if (roof) return [150, 52, 40];
    if (house) return [222, 206, 176];
    if (v > hill) return [clamp(60 + 40 * v), clamp(120 + 50 * Math.sin(u * 20) * 0.3), clamp(50 + 20 * u)];
    return [clamp(90 + 100 * v), clamp(150 + 70 * v), clamp(225 - 10 * v)];
  });
}

// A "painting": swirling bands of saturated colour.
export function stylePng(width = 128, height = 128) {
  return encodePng(width, height, (x, y) => {
    const cx = x - width / 2;
    const cy = y - height / 2;
    const angle = Math.atan2(cy, cx);
    const radius = Math.hypot(cx, cy) / width;
    const band = Math.sin(radius * 40 + angle * 3);
    const dabs = Math.sin(x * 0.9) * Math.sin(y * 1.1);
    return [clamp(40 + 60 * band + 30 * dabs), clamp(70 + 50 * Math.cos(radius * 25)), clamp(150 + 90 * band)];
  });
}
