#!/usr/bin/env python3
"""Helpers of test-scsi-hd.sh (Python 3, stdlib only).

  scsi_hd.py write IMAGE SIZE OFF:LEN...
      create IMAGE as a sparse file of SIZE bytes and write pseudo-random
      non-zero bytes at each OFF:LEN (seeded by the offset: reproducible)
  scsi_hd.py seekmap FILE
      print FILE's SEEK_DATA/SEEK_HOLE map on the host as JSON
  scsi_hd.py expect CASES_JSON NAME KIND IMAGE [OFF:LEN...]
      add the expected map of a disk to CASES_JSON, with the sha256 of the
      image's contents and the spans written; KIND is raw (the spans
      written, which the file's own SEEK map must equal), raw-fs (the
      file's own SEEK map, which must cover the spans written), qcow2
      (Debian's unpatched /usr/bin/qemu-img map: extents not reading as
      zeroes) or alldata (one extent: the disk without provisioning)
  scsi_hd.py guest OUT NAME=TARGET...
      in the guest: for each disk (by its SCSI target, LUN 0), walk the
      block device's SEEK_DATA/SEEK_HOLE map, read every hole (must be
      zeros), hash the whole device, write the results to OUT (JSON)
  scsi_hd.py check GUEST_JSON CASES_JSON
      on the host: compare each disk of the guest with its case; print
      PASS/FAIL per case; exit status 1 on any failure

A map is a sorted list of data extents [start, end) in bytes; the end of a
device counts as a hole, as on files.  Sizes and offsets accept K and M.
"""
import glob
import hashlib
import json
import os
import random
import subprocess
import sys
import time

CHUNK = 1 << 20


def num(text):
    mult = {'K': 1 << 10, 'M': 1 << 20}.get(text[-1:].upper(), 1)
    return int(text[:-1] if mult > 1 else text) * mult


def seek_map(fd, size):
    """Data extents of fd by SEEK_DATA/SEEK_HOLE, from 0 to size."""
    extents, off = [], 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == 6:  # ENXIO: no data after off
                break
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        extents.append([start, end])
        off = end
    return extents


def holes(extents, size):
    prev, out = 0, []
    for start, end in extents:
        if start > prev:
            out.append([prev, start])
        prev = end
    if prev < size:
        out.append([prev, size])
    return out


def cmd_write(image, size, *spans):
    with open(image, 'wb') as f:
        f.truncate(num(size))
        for span in spans:
            off, length = (num(x) for x in span.split(':'))
            rng = random.Random(off)
            f.seek(off)
            f.write(bytes(b or 1 for b in rng.randbytes(length)))


def cmd_seekmap(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        print(json.dumps(seek_map(fd, size)))
    finally:
        os.close(fd)


def find_disk(target):
    for dev in glob.glob('/sys/block/sd*'):
        hctl = os.path.basename(os.path.realpath(dev + '/device'))
        if hctl.split(':')[2:] == [str(target), '0']:
            return os.path.basename(dev)
    return None


def cmd_guest(out, *specs):
    result = {}
    targets = dict(spec.split('=') for spec in specs)
    # sd probes asynchronously: wait for every disk, for at most 120 s.
    deadline = time.monotonic() + 120
    while (time.monotonic() < deadline and
           not all(find_disk(t) for t in targets.values())):
        time.sleep(0.5)
    for name, target in targets.items():
        disk = find_disk(target)
        if disk is None:
            result[name] = {'error': 'no disk at target %s' % target}
            continue
        fd = os.open('/dev/' + disk, os.O_RDONLY)
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            extents = seek_map(fd, size)
            bad_holes = []
            for start, end in holes(extents, size):
                os.lseek(fd, start, os.SEEK_SET)
                off = start
                while off < end:
                    buf = os.read(fd, min(CHUNK, end - off))
                    if buf.count(0) != len(buf):
                        bad_holes.append([start, end])
                        break
                    off += len(buf)
            sha = hashlib.sha256()
            os.lseek(fd, 0, os.SEEK_SET)
            while True:
                buf = os.read(fd, CHUNK)
                if not buf:
                    break
                sha.update(buf)
        finally:
            os.close(fd)
        result[name] = {'disk': disk, 'size': size, 'map': extents,
                        'bad_holes': bad_holes, 'sha256': sha.hexdigest()}
    with open(out, 'w') as f:
        json.dump(result, f, indent=1)


def covers(extents, spans):
    """Every byte of spans lies inside some extent."""
    for off, end in spans:
        while off < end:
            ext = [e for e in extents if e[0] <= off < e[1]]
            if not ext:
                return False
            off = ext[0][1]
    return True


QEMU_IMG = '/usr/bin/qemu-img'


def merge(extents):
    out = []
    for start, end in sorted(extents):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        elif end > start:
            out.append([start, end])
    return out


def sha256_file(path):
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for buf in iter(lambda: f.read(CHUNK), b''):
            sha.update(buf)
    return sha.hexdigest()


def file_map(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return merge(seek_map(fd, os.fstat(fd).st_size))
    finally:
        os.close(fd)


def cmd_expect(cases_json, name, kind, image, *spans):
    written = merge([[num(a), num(a) + num(b)]
                     for a, b in (x.split(':') for x in spans)])
    case = {'kind': kind, 'written': written, 'also': []}
    if kind == 'qcow2':
        info = json.loads(subprocess.check_output(
            [QEMU_IMG, 'info', '--output=json', image]))
        case['size'] = info['virtual-size']
        layout = json.loads(subprocess.check_output(
            [QEMU_IMG, 'map', '--output=json', image]))
        case['map'] = merge([[e['start'], e['start'] + e['length']]
                             for e in layout if not e['zero']])
        raw = image + '.raw'
        subprocess.check_call([QEMU_IMG, 'convert', '-f', 'qcow2', '-O',
                               'raw', image, raw])
        case['sha256'] = sha256_file(raw)
        os.unlink(raw)
    else:
        case['size'] = os.stat(image).st_size
        case['sha256'] = sha256_file(image)
        fmap = file_map(image)
        if kind == 'raw':
            case['map'] = written
            case['also'].append({'what': 'the file\'s SEEK map',
                                 'map': fmap})
        elif kind == 'raw-fs':
            case['map'] = fmap
        elif kind == 'alldata':
            case['map'] = [[0, case['size']]]
        else:
            raise SystemExit('unknown kind ' + kind)
    cases = {}
    if os.path.exists(cases_json):
        with open(cases_json) as f:
            cases = json.load(f)
    cases[name] = case
    with open(cases_json, 'w') as f:
        json.dump(cases, f, indent=1)


def cmd_check(guest_json, cases_json):
    with open(guest_json) as f:
        guest = json.load(f)
    with open(cases_json) as f:
        cases = json.load(f)
    failed = 0
    for name, case in cases.items():
        why = []
        got = guest.get(name, {'error': 'missing from the guest output'})
        if 'error' in got:
            why.append(got['error'])
        else:
            if got['size'] != case['size']:
                why.append('size %d, expected %d' % (got['size'], case['size']))
            if got['map'] != case['map']:
                why.append('map %s, expected %s' % (got['map'], case['map']))
            for other in case.get('also', []):
                if other['map'] != case['map']:
                    why.append('%s %s differs from the expected map %s' %
                               (other['what'], other['map'], case['map']))
            if not covers(got['map'], case.get('written', [])):
                why.append('data extents miss written bytes %s'
                           % case['written'])
            if got['bad_holes']:
                why.append('holes that read non-zero: %s' % got['bad_holes'])
            if got['sha256'] != case['sha256']:
                why.append('contents differ from the image')
        print('%s: %s%s' % ('FAIL' if why else 'PASS', name,
                            ''.join('\n  ' + w for w in why)))
        failed += bool(why)
    return 1 if failed else 0


def main(argv):
    cmds = {'write': cmd_write, 'seekmap': cmd_seekmap, 'expect': cmd_expect,
            'guest': cmd_guest, 'check': cmd_check}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]](*argv[2:]) or 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
