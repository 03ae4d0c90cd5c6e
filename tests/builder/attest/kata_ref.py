#!/usr/bin/env python3
"""An independent model of how Kata's Go runtime reads an mkguest drop-in.

Usage: kata_ref.py KEYS DROPIN...   (KEYS: tests/vectors/kata/config-keys.txt)

For each drop-in it
  - parses it with Python's tomllib;
  - checks that every key is a key of its platform's template (the `initrd`
    key: of config.go's hypervisor struct), and that its value has the TOML
    type of the Go struct field it decodes into;
  - applies transcriptions of kata-containers src/runtime/virtcontainers/
    hypervisor.go ParseKernelVerityParams and GetKernelRootParams (commit
    80e3b071) and of the cmdline assembly (qemu.go kernelParameters 71aecf91,
    qemu_arch_base.go kernelParameters/handleImagePath/appendConsole c7e91684,
    qemu_amd64.go kernelParams c7e91684, katautils/config.go SetKernelParams
    968d6e94, katautils/create.go getKernelParams 24c51cfb, kata_agent.go
    KataAgentKernelParams 253642cc), all at 7c6ba40c, to the drop-in's values
    alone, for an amd64 QEMU guest without debug;
and prints one JSON object: file name -> {cmdline, root_hash, root_params,
vcpus, memory, kernel, image, initrd, firmware}.
Written from the Go source, not from mkguest's C++.
"""
import json
import os
import sys
import tomllib


class KataError(Exception):
    pass


PY_TYPES = {
    "bool": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def parse_kernel_verity_params(params):
    if params.strip() == "":
        return None
    values = {}
    for field in params.split(","):
        field = field.strip()
        if field == "":
            continue
        parts = field.split("=", 1)
        if len(parts) != 2:
            raise KataError("invalid kernel_verity_params entry: %r" % field)
        values[parts[0]] = parts[1]
    cfg = {"rootHash": values.get("root_hash", ""), "salt": values.get("salt", "")}
    if cfg["rootHash"] == "":
        raise KataError("missing kernel_verity_params root_hash")

    def parse_uint(name):
        v = values.get(name, "")
        if v == "":
            raise KataError("missing kernel_verity_params " + name)
        if not v.isdigit() or not v.isascii():
            raise KataError("invalid kernel_verity_params " + name)
        n = int(v)
        if n >= 1 << 64:
            raise KataError("invalid kernel_verity_params " + name)
        return n

    cfg["dataBlocks"] = parse_uint("data_blocks")
    cfg["dataBlockSize"] = parse_uint("data_block_size")
    cfg["hashBlockSize"] = parse_uint("hash_block_size")
    if cfg["salt"] == "":
        raise KataError("missing kernel_verity_params salt")
    for k in ("dataBlocks", "dataBlockSize", "hashBlockSize"):
        if cfg[k] == 0:
            raise KataError("must be non-zero")
    for k in ("dataBlockSize", "hashBlockSize"):
        if cfg[k] % 512 != 0:
            raise KataError("must be multiple of 512")
    return cfg


def kernel_verity_root_flags(rootfstype):
    rootfstype = rootfstype or "ext4"
    if rootfstype in ("erofs", "xfs"):
        return "ro"
    if rootfstype == "ext4":
        return "data=ordered,errors=remount-ro ro"
    raise KataError("unsupported rootfs type")


def get_kernel_root_params(rootfstype, disable_nvdimm, dax, kernel_verity_params):
    cfg = parse_kernel_verity_params(kernel_verity_params)
    rootfstype = rootfstype or "ext4"
    if cfg is not None:
        root, hashdev = ("/dev/vda1", "/dev/vda2") if disable_nvdimm else ("/dev/pmem0p1", "/dev/pmem0p2")
        sectors = (cfg["dataBlockSize"] // 512) * cfg["dataBlocks"]
        cmd = "dm-verity,,,ro,0 %d verity 1 %s %s %d %d %d 0 sha256 %s %s" % (
            sectors, root, hashdev, cfg["dataBlockSize"], cfg["hashBlockSize"],
            cfg["dataBlocks"], cfg["rootHash"], cfg["salt"])
        return [("dm-mod.create", '"%s"' % cmd), ("root", "/dev/dm-0"),
                ("rootflags", kernel_verity_root_flags(rootfstype)), ("rootfstype", rootfstype)], cfg
    if disable_nvdimm and dax:
        raise KataError("Virtio-Blk does not support DAX")
    params = [("root", "/dev/vda1" if disable_nvdimm else "/dev/pmem0p1")]
    flags = {"erofs": ("dax ro", "ro"), "xfs": ("dax ro", "ro"),
             "ext4": ("dax,data=ordered,errors=remount-ro ro", "data=ordered,errors=remount-ro ro")}
    if rootfstype not in flags:
        raise KataError("unsupported rootfs type")
    params.append(("rootflags", flags[rootfstype][0 if dax else 1]))
    params.append(("rootfstype", rootfstype))
    return params, None


def kernel_param_fields(s):  # hypervisor.go KernelParamFields
    params, start, in_quote = [], 0, False
    for i, c in enumerate(s):
        if c == '"':
            in_quote = not in_quote
        elif c == " " and not in_quote:
            p = s[start:i].strip()
            if p:
                params.append(p)
            start = i + 1
    p = s[start:].strip()
    if p:
        params.append(p)
    return params


def deserialize(fields):
    out = []
    for f in fields:
        k, sep, v = f.partition("=")
        if k == "":
            raise KataError("Empty kernel parameter")
        out.append((k, v))
    return out


def serialize(params):
    out = []
    for k, v in params:
        if k == "" and v == "":
            continue
        out.append(v if k == "" else k if v == "" else k + "=" + v)
    return " ".join(out)


def guest_cmdline(hv, agent):
    confidential = hv.get("confidential_guest", False)
    image = hv.get("image", "")
    if image and hv.get("initrd", ""):
        raise KataError("having both an image and an initrd is not supported")
    disable_nvdimm = hv.get("disable_image_nvdimm", False) or confidential  # newQemuArch
    arch = [("tsc", "reliable"), ("no_timer_check", ""), ("rcupdate.rcu_expedited", "1"),
            ("i8042.direct", "1"), ("i8042.dumbkbd", "1"), ("i8042.nopnp", "1"),
            ("i8042.noaux", "1"), ("noreplace-smp", ""), ("reboot", "k"),
            ("cryptomgr.notests", ""), ("net.ifnames", "0"), ("pci", "lastbus=0")]
    if hv.get("enable_iommu", False):
        arch += [("intel_iommu", "on"), ("iommu", "pt")]
    non_debug = [("quiet", "")]
    cfg = None
    if image:  # handleImagePath, dax = true on amd64 when NVDIMM is used
        root, cfg = get_kernel_root_params(hv.get("rootfs_type", ""), disable_nvdimm,
                                           not disable_nvdimm, hv.get("kernel_verity_params", ""))
        arch += root
        non_debug += [("systemd.show_status", "false")]
    arch += [("console", "ttyS0")] if hv.get("use_legacy_serial", False) else \
        [("console", "hvc0"), ("console", "hvc1")]
    if hv.get("enable_debug", False):
        raise KataError("the model covers enable_debug = false only")
    params = arch + non_debug + [("panic", "1")]
    if not confidential:
        params.append(("nr_cpus", str(hv.get("default_maxvcpus", 0))))
    params.append(("selinux", "0" if hv.get("disable_guest_selinux", False) else "1"))
    # SetKernelParams: systemd params, scsi scan, agent params, then kernel_params
    if image:
        params += [("systemd.unit", "kata-containers.target"),
                   ("systemd.mask", "systemd-networkd.service"),
                   ("systemd.mask", "systemd-networkd.socket")]
    if hv.get("block_device_driver", "") == "virtio-scsi":
        params.append(("scsi_mod.scan", "none"))
    if agent.get("enable_debug", False):
        params.append(("agent.log", "debug"))
    if agent.get("enable_tracing", False):
        params.append(("agent.trace", "true"))
    if agent.get("debug_console_enabled", False):
        params += [("agent.debug_console", ""), ("agent.debug_console_vport", "1026")]
    if agent.get("cdh_api_timeout", 0) > 0:
        params.append(("agent.cdh_api_timeout", str(agent["cdh_api_timeout"])))
    if agent.get("launch_process_timeout", 0) > 0:
        params.append(("agent.launch_process_timeout", str(agent["launch_process_timeout"])))
    user = hv.get("kernel_params", "")
    if user == "":
        raise KataError("empty kernel_params: the runtime would use its build default")
    params += deserialize(kernel_param_fields(user))
    return serialize(params), cfg


def main():
    keys, types = {}, {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            src, table, key, *kind = line.split()
            keys.setdefault(src, set()).add((table, key))
            if kind:
                types[(table, key)] = kind[0]
    out = {}
    for path in sys.argv[2:]:
        name = os.path.basename(path)
        platform = name[len("configuration-qemu-"):-len(".toml")]
        if platform.startswith("snp-"):
            platform = "snp"
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        for table, body in doc.items():
            for sub, values in body.items():
                full = table if not isinstance(values, dict) else table + "." + sub
                items = [(sub, values)] if not isinstance(values, dict) else values.items()
                for key, value in items:
                    ok = (full, key) in keys[platform] or \
                        (full, key) == ("hypervisor.qemu", "initrd") and (full, key) in keys["go"]
                    if not ok:
                        raise KataError("%s: [%s] %s is not a key of configuration-qemu-%s.toml.in"
                                        % (name, full, key, platform))
                    # The value must decode into the Go field (BurntSushi/toml is strict on types).
                    want = types.get((full, key))
                    if want not in PY_TYPES or not PY_TYPES[want](value):
                        raise KataError("%s: [%s] %s = %r does not decode into a Go %s field"
                                        % (name, full, key, value, want))
        hv = doc["hypervisor"]["qemu"]
        agent = doc.get("agent", {}).get("kata", {})
        rec = {"kernel": hv["kernel"], "image": hv.get("image", ""), "initrd": hv.get("initrd", ""),
               "firmware": hv.get("firmware", ""), "vcpus": hv["default_vcpus"],
               "memory": hv["default_memory"]}
        if platform != "se":
            rec["cmdline"], cfg = guest_cmdline(hv, agent)
            rec["root_hash"] = cfg["rootHash"] if cfg else ""
        out[name] = rec
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    try:
        main()
    except KataError as e:
        print("kata_ref: " + str(e), file=sys.stderr)
        sys.exit(1)
