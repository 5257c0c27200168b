"""What an uploaded image declares about itself, read from its bytes before any decoder sees them.

Only headers are read (PNG chunks, JPEG markers, WebP RIFF chunks, an ISO BMFF
`ftyp` box), by seeking over the data, never inflating or decoding it. The
budgets of cases.photos are checked on these figures first because decoders
allocate early: Pillow's WebP decoder allocates two whole canvases the moment
the file is opened, and libjpeg allocates a whole-image coefficient buffer for a
progressive JPEG however small the scale it is asked to decode at.
"""

import math
import struct
from dataclasses import dataclass
from typing import BinaryIO

# ISO BMFF brands of HEIF (HEVC stills and sequences, what iPhones shoot) and AVIF.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"mif2", b"msf1",
               b"avif", b"avis"}  # fmt: skip
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour type → samples per pixel; a palette counts as RGBA, which is what viewers expand it to.
PNG_BANDS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
JPEG_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


class Malformed(ValueError):
    """The header contradicts itself or the file: truncated, or not what it says it is."""


@dataclass(frozen=True)
class Header:
    format: str  # "JPEG", "PNG", "WEBP" or "HEIF"
    width: int = 0
    height: int = 0
    frames: int = 1
    bands: int = 3
    band_bytes: int = 1
    # JPEG only: libjpeg's whole-image coefficient buffer, needed when the image comes in several scans.
    buffer_bytes: int = 0

    @property
    def pixels(self) -> int:
        """Every frame's pixels: an animation is decoded frame after frame."""
        return self.width * self.height * self.frames

    @property
    def decode_bytes(self) -> int:
        """What a full decode must allocate to hold the pixels: width × height × bands × bytes per band."""
        return self.pixels * self.bands * self.band_bytes


def read_header(fp: BinaryIO) -> Header | None:
    """The header of a JPEG, PNG, WebP or HEIF/AVIF file; None for anything else. Leaves fp anywhere."""
    fp.seek(0)
    head = fp.read(32)
    if head.startswith(b"\xff\xd8\xff"):
        return _jpeg(fp)
    if head.startswith(PNG_SIGNATURE):
        return _png(fp)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(fp)
    if head[4:8] == b"ftyp" and _heif(fp, head):
        return Header("HEIF")
    return None


def _read(fp: BinaryIO, size: int) -> bytes:
    data = fp.read(size)
    if len(data) != size:
        raise Malformed("the file ends inside a header")
    return data


def _heif(fp: BinaryIO, head: bytes) -> bool:
    (box_size,) = struct.unpack(">I", head[:4])
    fp.seek(8)
    brands = fp.read(max(0, min(box_size, 4096) - 8))  # major brand, minor version, compatible brands
    return brands[:4] in HEIF_BRANDS or any(brands[i : i + 4] in HEIF_BRANDS for i in range(8, len(brands), 4))


def _png(fp: BinaryIO) -> Header:
    fp.seek(8)
    length, kind = struct.unpack(">I4s", _read(fp, 8))
    if kind != b"IHDR" or length != 13:
        raise Malformed("a PNG starts with IHDR")
    width, height, depth, colour = struct.unpack(">IIBB", _read(fp, 10))
    if colour not in PNG_BANDS:
        raise Malformed("unknown PNG colour type")
    fp.seek(8 + 8 + 13 + 4)
    frames = 1
    while True:  # acTL (how many frames an APNG has) must come before the first IDAT
        chunk = fp.read(8)
        if len(chunk) < 8:
            break  # no IDAT: verify() says the file is damaged
        length, kind = struct.unpack(">I4s", chunk)
        if kind == b"IDAT":
            break
        if kind == b"acTL":
            frames = max(1, struct.unpack(">I", _read(fp, 4))[0])
            length -= 4
        fp.seek(length + 4, 1)  # the data, then the CRC
    return Header("PNG", width, height, frames, PNG_BANDS[colour], 2 if depth == 16 else 1)


def _jpeg(fp: BinaryIO) -> Header:
    """Markers from SOI to the first SOS: the frame's size and components, and whether it has several
    scans (progressive, or a first scan without every component), which is when libjpeg buffers it all."""
    fp.seek(2)
    frame = None
    while True:
        marker = _read(fp, 2)
        while marker[1] == 0xFF:  # fill bytes
            marker = marker[1:] + _read(fp, 1)
        if marker[0] != 0xFF:
            raise Malformed("JPEG marker expected")
        (length,) = struct.unpack(">H", _read(fp, 2))
        if length < 2:
            raise Malformed("JPEG segment length")
        body = _read(fp, length - 2)
        if marker[1] in JPEG_SOF:
            frame = (marker[1], body)
        elif marker[1] == 0xDA:
            if frame is None:
                raise Malformed("JPEG scan before its frame")
            return _jpeg_header(*frame, scan_components=body[0] if body else 0)


def _jpeg_header(sof: int, body: bytes, *, scan_components: int) -> Header:
    if len(body) < 6:
        raise Malformed("short JPEG frame header")
    precision, height, width, count = struct.unpack(">BHHB", body[:6])
    sampling = [(b >> 4, b & 15) for b in body[7 : 6 + 3 * count : 3]]
    if not width or not height or len(sampling) != count or not all(h and v for h, v in sampling):
        raise Malformed("JPEG frame header")
    h_max, v_max = max(h for h, _ in sampling), max(v for _, v in sampling)
    buffer_bytes = 0
    if sof in JPEG_PROGRESSIVE or scan_components < count:
        # 64 coefficients of 2 bytes per 8×8 block of every component, at its own sampling.
        blocks = sum(math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8) for h, v in sampling)
        buffer_bytes = blocks * 64 * 2
    return Header("JPEG", width, height, 1, count, 2 if precision > 8 else 1, buffer_bytes)


def _webp(fp: BinaryIO) -> Header:
    """RIFF chunks: the canvas (VP8X) or the one image's size (VP8, VP8L), and the frames of an animation;
    every chunk must lie inside the RIFF and the RIFF inside the file."""
    fp.seek(0, 2)
    file_size = fp.tell()
    fp.seek(4)
    riff_end = 8 + struct.unpack("<I", _read(fp, 4))[0]
    if riff_end > file_size:
        raise Malformed("the WebP file is shorter than its RIFF header says")
    chunks = _riff_chunks(fp, 12, riff_end)
    kind, offset, size = next(chunks, (b"", 0, 0))
    fp.seek(offset)
    if kind in (b"VP8 ", b"VP8L"):
        width, height = _vp8_size(kind, _read(fp, min(size, 10)))
        return Header("WEBP", width, height, 1, 3 if kind == b"VP8 " else 4)
    if kind != b"VP8X" or size < 10:
        raise Malformed("a WebP starts with VP8, VP8L or VP8X")
    flags, width, height = _vp8x(_read(fp, 10))
    frames = 0
    for kind, offset, size in chunks:
        if kind == b"ANMF":
            fp.seek(offset)
            _check_frame(_read(fp, min(size, 16)), width, height)
            frames += 1
        elif kind in (b"VP8 ", b"VP8L"):
            frames += 1
    if not frames:
        raise Malformed("a WebP without an image")
    return Header("WEBP", width, height, frames if flags & 0x02 else 1, 4)


def _riff_chunks(fp: BinaryIO, start: int, end: int):
    offset = start
    while offset + 8 <= end:
        fp.seek(offset)
        kind, size = struct.unpack("<4sI", _read(fp, 8))
        if offset + 8 + size > end:
            raise Malformed("a WebP chunk runs past the end of the file")
        yield kind, offset + 8, size
        offset += 8 + size + (size & 1)  # chunks are padded to an even length


def _vp8_size(kind: bytes, data: bytes) -> tuple[int, int]:
    if kind == b"VP8 ":
        if len(data) < 10 or data[3:6] != b"\x9d\x01\x2a":
            raise Malformed("VP8 key frame header")
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if len(data) < 5 or data[0] != 0x2F:
        raise Malformed("VP8L header")
    (bits,) = struct.unpack("<I", data[1:5])
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def _vp8x(data: bytes) -> tuple[int, int, int]:
    return data[0], _u24(data, 4) + 1, _u24(data, 7) + 1


def _check_frame(data: bytes, width: int, height: int) -> None:
    """An animation frame lies inside the canvas (its offsets are stored halved)."""
    if len(data) < 12:
        raise Malformed("ANMF header")
    x, y, w, h = 2 * _u24(data, 0), 2 * _u24(data, 3), _u24(data, 6) + 1, _u24(data, 9) + 1
    if x + w > width or y + h > height:
        raise Malformed("a WebP frame outside its canvas")


def _u24(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 3], "little")
