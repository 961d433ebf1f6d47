"""For scripts/render-check: compares the report with the DOM Chromium built
from it, and looks at the screenshot. Exit 1 with the reasons when the page
did not render as written or a chart is empty."""
import re, struct, sys, zlib

def charts(html):
    """(kind, count attribute, drawn marks) for every chart and extent map."""
    out = []
    for m in re.finditer(r'<svg class="(chart|extent-map)" data-(?:points|extents)="(\d+)"(.*?)</svg>', html, re.S):
        kind, n, body = m.group(1), int(m.group(2)), m.group(3)
        marks = body.count('<circle class="point"') if kind == "chart" else body.count('<rect class="extent"')
        out.append((kind, n, marks))
    return out

def hidden_series(html):
    """For every chart, the series none of whose markers can be seen: each is
    covered by a marker drawn later at the same place that is at least as
    large. A series drawn under another of the same values must not vanish."""
    out = []
    for i, m in enumerate(re.finditer(r'<svg class="chart"(.*?)</svg>', html, re.S)):
        marks = [(int(a), float(x), float(y), float(r)) for a, x, y, r in
                 re.findall(r'<circle class="point" data-series="(\d+)" cx="([-0-9.]+)" cy="([-0-9.]+)" r="([0-9.]+)"', m.group(1))]
        series = sorted({s for s, _, _, _ in marks})
        for s in series:
            mine = [(k, mark) for k, mark in enumerate(marks) if mark[0] == s]
            def covered(k, mark):
                _, x, y, r = mark
                return any(o[0] != s and abs(o[1] - x) < 0.5 and abs(o[2] - y) < 0.5 and o[3] >= r for o in marks[k + 1:])
            if mine and all(covered(k, mark) for k, mark in mine):
                out.append((i + 1, s))
    return out

def png_pixels(path):
    """Decodes an 8-bit RGB(A) PNG with zlib: (width, height, rows of bytes, bytes per pixel)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, color = struct.unpack(">IIBB", chunk[:10])
            if depth != 8 or color not in (2, 6):
                raise ValueError(f"PNG colour type {color} depth {depth} not handled")
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, bpp

def main(report, dom_path, png):
    problems = []
    source, dom = open(report, encoding="utf-8").read(), open(dom_path, encoding="utf-8").read()
    if "<body" not in dom or "</html>" not in dom:
        problems.append("Chromium built no document from the file")
    if "<script" in dom.lower():
        problems.append("the page holds a script")
    want, got = charts(source), charts(dom)
    if len(want) != len(got):
        problems.append(f"the file has {len(want)} chart(s) and extent map(s), the rendered page {len(got)}: broken markup")
    for i, (kind, n, marks) in enumerate(got):
        if n == 0 or marks == 0:
            problems.append(f"{kind} #{i + 1} is empty ({marks} mark(s) drawn)")
        elif marks != n:
            problems.append(f"{kind} #{i + 1} says {n} but draws {marks}")
    for chart, series in hidden_series(dom):
        problems.append(f"chart #{chart}: series {series + 1} is hidden under another at every point")
    w, h, rows, bpp = png_pixels(png)
    ink = coloured = 0
    for row in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 235 or g < 235 or b < 235:
                ink += 1
            if max(r, g, b) - min(r, g, b) > 80:
                coloured += 1
    sampled = (h // 2) * (w // 2)
    if ink < sampled * 0.002:
        problems.append(f"the screenshot is blank ({ink} of {sampled} sampled pixels inked)")
    if got and coloured < 50:
        problems.append(f"the screenshot shows almost no colour ({coloured} coloured pixels): charts did not draw")
    if problems:
        print("render-check: " + report + " did not render as it should:", file=sys.stderr)
        for p in problems:
            print("  - " + p, file=sys.stderr)
        return 1
    print(f"render-check: {report}: {len(got)} chart(s)/map(s) with data, {w}x{h} screenshot, {ink} inked and {coloured} coloured sampled pixels")
    return 0

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
