/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plain data model of one VM, as a profile describes it.
 *
 * No I/O and no jansson here: profile_json.c turns a file into this struct,
 * profile_validate() checks the cross-field rules, and qemu_argv.c turns it
 * into a command line. Every string is a fixed buffer with a documented
 * limit, so a struct profile is one allocation and can be copied with '='.
 * Paths are absolute after loading (relative ones are resolved against the
 * profile's folder by the loader).
 *
 * The JSON format is documented in profiles/README.md and
 * profiles/vfio-launch.schema.json; the reference machine is
 * profiles/win10.json.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/cpuset.h"
#include "base/error.h"
#include "base/pci_addr.h"

/* Hard limits on what input controls. */
#define PROFILE_FILE_MAX (256u * 1024u) /* bytes of JSON */
#define PROFILE_DEPTH_MAX 8             /* JSON nesting */
#define PROFILE_NAME_MAX 64             /* incl. NUL: 1..63 chars of [A-Za-z0-9_.-], not starting with '.' or '-' */
#define PROFILE_PATH_MAX 1024           /* incl. NUL */
#define PROFILE_STR_MAX 128             /* incl. NUL: models, users, ids, device names */
#define PROFILE_HOSTDEVS_MAX 16
#define PROFILE_ALLOW_DETACH_MAX 16
#define PROFILE_DISKS_MAX 16
#define PROFILE_NICS_MAX 8
#define PROFILE_VCPUS_MAX 255
#define PROFILE_GUEST_BUS_MAX 30        /* root ports pci.1 .. pci.30 */
#define PROFILE_MEMORY_MIN_MIB 16
#define PROFILE_MEMORY_MAX_MIB (16u * 1024u * 1024u) /* 16 TiB */
#define PROFILE_VENDOR_ID_MAX 12        /* Hyper-V vendor id, chars */
#define PROFILE_HUGEPAGES_PATH_MAX 128  /* incl. NUL: the run's journal records the VM's
                                           folder in it (JOURNAL_DATA_MAX) */

/* How QEMU runs the guest: KVM for real use; TCG (software emulation) for a
 * host without /dev/kvm — the demo and the tests, never for a GPU guest. */
enum accel_type {
        ACCEL_KVM = 0,
        ACCEL_TCG,
};

/* How the guest learns of PCI hot-plug on the root ports, which only live
 * detach/attach of a hostdev uses. QEMU's own default depends on the machine
 * version (ACPI from pc-q35-6.1, native before), so the builder always says
 * which: -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off|on. */
enum pci_hotplug_mode {
        PCI_HOTPLUG_NATIVE = 0, /* PCIe native: the guest's pciehp answers the attention button */
        PCI_HOTPLUG_ACPI,       /* ACPI: the guest's _EJ0 method ejects the slot */
};

enum firmware_type {
        FIRMWARE_UEFI = 0, /* OVMF (default) */
        FIRMWARE_BIOS,     /* SeaBIOS: the legacy path, x-vga */
};

struct profile_firmware {
        enum firmware_type type;
        bool secure_boot;                  /* needs SMM; picks a secure descriptor */
        char code[PROFILE_PATH_MAX];       /* "" = choose from QEMU's firmware descriptors */
        char vars_template[PROFILE_PATH_MAX]; /* "" = from the descriptor */
        char vars[PROFILE_PATH_MAX];       /* the VM's own VARS; "" = default
                                              /var/lib/vfio-launch/NAME/NAME_VARS.fd.
                                              Copied from the template once, never overwritten. */
};

/* Direct kernel boot (libvirt's <os><kernel>): QEMU loads the kernel
 * itself; for appliance guests and the project's own test guests. */
struct profile_boot {
        char kernel[PROFILE_PATH_MAX];     /* "" = boot from the firmware's devices */
        char initrd[PROFILE_PATH_MAX];
        char cmdline[PROFILE_PATH_MAX];
};

/* Guest RAM on hugetlbfs pages: QEMU maps it from a file in a folder of the
 * VM's own in a hugetlbfs mount (hugepages.h does the host side). */
enum hugepage_size {
        HUGEPAGE_2M = 0,
        HUGEPAGE_1G,
};

struct profile_hugepages {
        bool enabled;                      /* "hugepages" given */
        enum hugepage_size size;           /* default 2M */
        char path[PROFILE_HUGEPAGES_PATH_MAX]; /* a hugetlbfs mount of that page size;
                                              default "/dev/hugepages" */
        bool reserve;                      /* raise nr_hugepages for the run when too
                                              few are free; given back after */
        bool prealloc;                     /* default true: every page taken at start */
};

/* QEMU's Hyper-V enlightenments (docs/system/i386/hyperv.rst), hv-NAME. */
struct profile_hyperv {
        bool relaxed, vapic;
        uint32_t spinlocks;                /* retries; 0 = off; else 4095..0xffffffff */
        char vendor_id[PROFILE_VENDOR_ID_MAX + 1]; /* "" = off */
        bool vpindex, runtime, time, synic, stimer, reset, frequencies, tlbflush, ipi;
        bool reenlightenment, stimer_direct, avic, evmcs, xmm_input, tlbflush_ext, tlbflush_direct,
                emsr_bitmap;
        bool passthrough;                  /* every enlightenment KVM has (hv-passthrough): alone */
};

/* An on/off a profile may leave to QEMU's default. */
enum profile_switch {
        SWITCH_DEFAULT = 0,
        SWITCH_ON,
        SWITCH_OFF,
};

/* CPU cache information the guest sees (libvirt's <cache mode=...>). */
enum cpu_cache {
        CPU_CACHE_DEFAULT = 0,
        CPU_CACHE_PASSTHROUGH, /* the host's (host-cache-info=on, l3-cache=off) */
        CPU_CACHE_EMULATE,     /* an emulated L3 (l3-cache=on) */
        CPU_CACHE_DISABLE,     /* none (l3-cache=off) */
};

#define PROFILE_CPU_FEATURES_MAX 32
#define PROFILE_CPU_FEATURE_MAX 32 /* incl. NUL */

/* A CPUID feature flag the guest gets (on) or not (off), on top of the
 * model: "topoext": true, "hypervisor": false. */
struct profile_cpu_feature {
        char name[PROFILE_CPU_FEATURE_MAX];
        bool on;
};

struct profile_cpu {
        char model[PROFILE_STR_MAX];       /* default "host" */
        unsigned sockets, cores, threads;  /* default 1/ncpus/1 */
        unsigned vcpus;                    /* = sockets*cores*threads (validated) */
        bool kvm_hidden;                   /* kvm=off: NVIDIA error 43 */
        enum profile_switch migratable;    /* model "host" only; QEMU's default is on */
        enum cpu_cache cache;
        unsigned n_features;
        struct profile_cpu_feature features[PROFILE_CPU_FEATURES_MAX];
        struct profile_hyperv hyperv;
        /* Placement, applied by the supervisor before `cont` (pin.c). */
        bool pinned;                       /* "pin": one host CPU set per vCPU */
        unsigned n_pin;                    /* entries given (must equal vcpus) */
        struct cpuset pin[PROFILE_VCPUS_MAX];
        bool emulator_pinned;              /* QEMU's other threads */
        struct cpuset emulator_pin;
        unsigned rt_priority;              /* SCHED_FIFO for the vCPU threads; 0 = off, 1..99 */
};

/* Where a host device appears in the guest. bus N = root port "pci.N" whose
 * secondary bus is N after firmware enumeration (what libvirt calls guest
 * bus 0x0N); slot is always 0 behind a root port, function 0..7. */
struct profile_guest_addr {
        bool automatic;       /* "guest" omitted: the builder picks a free root port */
        bool same_slot;       /* "guest": "same-slot": behind the port of the hostdev
                                 that is function 0 of the same host slot, at this
                                 device's own host function number */
        unsigned bus;         /* 1..PROFILE_GUEST_BUS_MAX */
        unsigned slot;        /* 0 */
        unsigned function;    /* 0..7 */
};

enum rombar_mode {
        ROMBAR_DEFAULT = 0,
        ROMBAR_ON,
        ROMBAR_OFF,
};

struct profile_hostdev {
        struct pci_addr host;
        struct profile_guest_addr guest;
        enum rombar_mode rombar;
        char romfile[PROFILE_PATH_MAX];    /* "" = none */
        bool multifunction;                /* set by the builder too when functions share a port */
        bool x_vga;                        /* legacy VGA (BIOS boot only) */
        char id[PROFILE_STR_MAX];          /* QEMU device id; default "hostdevN" */
        /* Added for the reference machine's "10de:11c0": the vendor:device
         * IDs the device at `host` must have (as lspci -nn prints them), so a
         * renumbered bus cannot hand the wrong device to a guest. */
        bool ids_set;                      /* false = not checked */
        uint16_t vendor, device;
        unsigned boot;                     /* bootindex (boot from a passed-through NVMe); 0 = none */
};

enum disk_format { DISK_QCOW2 = 0, DISK_RAW };
enum disk_bus { DISK_BUS_SATA = 0, DISK_BUS_VIRTIO, DISK_BUS_NVME, DISK_BUS_SCSI };
enum disk_cache { DISK_CACHE_DEFAULT = 0, DISK_CACHE_NONE, DISK_CACHE_WRITEBACK, DISK_CACHE_UNSAFE };
/* QEMU's block-layer options, left to QEMU's defaults unless given. */
enum disk_discard { DISK_DISCARD_DEFAULT = 0, DISK_DISCARD_UNMAP, DISK_DISCARD_IGNORE };
enum disk_detect_zeroes { DISK_DZ_DEFAULT = 0, DISK_DZ_OFF, DISK_DZ_ON, DISK_DZ_UNMAP };
enum disk_aio { DISK_AIO_DEFAULT = 0, DISK_AIO_THREADS, DISK_AIO_NATIVE, DISK_AIO_IO_URING };

#define PROFILE_IOTHREADS_MAX 16
#define PROFILE_BOOT_MAX 255               /* "boot": 1..255 */

/* An I/O thread (-object iothread,id=iothreadN): an event loop of its own
 * for the virtio disks that name it, optionally on host CPUs of its own
 * (placed by the supervisor before `cont`, like the vCPUs). */
struct profile_iothread {
        bool pinned;
        struct cpuset pin;
};

struct profile_disk {
        char path[PROFILE_PATH_MAX];
        enum disk_format format;
        enum disk_bus bus;
        enum disk_cache cache;
        bool readonly;
        bool cdrom;                        /* an ISO on a SATA cdrom */
        char id[PROFILE_STR_MAX];          /* default "diskN" */
        enum disk_discard discard;
        enum disk_detect_zeroes detect_zeroes;
        enum disk_aio aio;
        bool has_iothread;                 /* "iothread" given: virtio / scsi only */
        unsigned iothread;                 /* index into profile.iothreads */
        unsigned boot;                     /* bootindex; 0 = none (see profile_boot_order()) */
};

enum nic_backend {
        NIC_USER = 0,   /* QEMU's NAT (slirp): libvirt's "default" network */
        NIC_MACVTAP,    /* type="direct" */
        NIC_TAP,        /* a tap on an existing bridge */
};

enum macvtap_mode {
        MACVTAP_BRIDGE = 0,
        MACVTAP_VEPA,
        MACVTAP_PRIVATE,
        MACVTAP_PASSTHRU,
};

struct profile_nic {
        char model[PROFILE_STR_MAX];       /* default "e1000e"; e1000e|virtio-net-pci|rtl8139|e1000 */
        uint8_t mac[6];
        bool mac_set;                      /* false: a stable one is derived from name+index */
        enum nic_backend backend;
        char dev[PROFILE_STR_MAX];         /* macvtap lower device (IFNAMSIZ-1 max) */
        enum macvtap_mode mode;
        char bridge[PROFILE_STR_MAX];      /* tap: the bridge to enslave to */
        char id[PROFILE_STR_MAX];          /* default "netN" */
        /* vhost-net for a virtio NIC on tap/macvtap: ON = required (a run
         * without /dev/vhost-net fails), OFF = QEMU's userspace virtio-net,
         * DEFAULT = when possible (host/vhost.h decides). */
        enum profile_switch vhost;
        unsigned boot;                     /* bootindex (PXE); 0 = none */
};

enum sound_model { SOUND_NONE = 0, SOUND_AC97, SOUND_ICH9, SOUND_ICH6 };
enum sound_backend {
        AUDIO_NONE = 0,
        AUDIO_ALSA,
        AUDIO_PA,
        AUDIO_PIPEWIRE, /* QEMU >= 8.1 */
        AUDIO_SPICE,
        AUDIO_WAV,
};

/* The legacy QEMU_* audio environment variables the reference machine
 * used, kept as the user wrote them; qemu_argv translates them into
 * -audiodev with QEMU's own formula (docs/facts.md#F-audio-legacy-mapping).
 * 0 / "" = not set. */
struct profile_sound {
        enum sound_model model;
        enum sound_backend backend;        /* QEMU_AUDIO_DRV */
        uint32_t timer_period_hz;          /* QEMU_AUDIO_TIMER_PERIOD */
        uint32_t frequency;                /* fixed frequency, Hz; 0 = 44100 for the formula */
        uint32_t alsa_dac_buffer_frames;   /* QEMU_ALSA_DAC_BUFFER_SIZE */
        uint32_t alsa_dac_period_frames;   /* QEMU_ALSA_DAC_PERIOD_SIZE */
        uint32_t pa_samples;               /* QEMU_PA_SAMPLES */
        char pa_server[PROFILE_PATH_MAX];  /* QEMU_PA_SERVER: socket path or "unix:..." or host */
        char alsa_dev[PROFILE_STR_MAX];    /* ALSA PCM, "" = default */
};

/* A TPM 2.0 for the guest (Windows 11 wants one): QEMU's TPM front end on
 * swtpm, which the launcher runs for the VM (run/swtpm.h) with its state in
 * the VM's folder (host/tpm.h). */
enum tpm_model {
        TPM_MODEL_CRB = 0, /* tpm-crb: the TPM 2.0 Command Response Buffer interface */
        TPM_MODEL_TIS,     /* tpm-tis: the older FIFO interface, for guests without CRB */
        TPM_MODEL_NONE,    /* no TPM: how a profile turns off the one its "os" preset adds */
};

struct profile_tpm {
        bool enabled;                      /* "tpm" given, model not "none" */
        enum tpm_model model;              /* default crb */
};

/* Shared memory the guest sees as an IVSHMEM PCI device (QEMU's
 * ivshmem-plain on a memory-backend-file with share=on): Looking Glass's
 * frames, Scream's audio. The host side is host/shmem.h. */
#define PROFILE_SHMEM_MAX 4
#define PROFILE_SHMEM_MIB_MAX 1024u         /* 1 GiB: 8K HDR needs 1 GiB by Looking Glass's formula */
#define PROFILE_SHMEM_RES_MAX 16384u        /* pixels, each side */
enum shmem_backend {
        SHMEM_BACKEND_FILE = 0, /* /dev/shm/NAME, created for the run */
        SHMEM_BACKEND_KVMFR,    /* /dev/kvmfrN of Looking Glass's kvmfr module */
};

struct profile_shmem {
        char name[PROFILE_NAME_MAX];       /* the file's name in /dev/shm: profile_name_valid() */
        uint64_t size_mib;                 /* a power of two (the BAR's size), 1..PROFILE_SHMEM_MIB_MAX;
                                              with "auto": profile_shmem_auto_mib() of the resolution */
        bool size_auto;
        unsigned width, height;            /* "resolution" (only with "auto"); 0 = none */
        enum shmem_backend backend;
        char owner[PROFILE_STR_MAX];       /* "" = QEMU's user */
        char group[PROFILE_STR_MAX];       /* "" = the owner's primary group */
        uint32_t mode;                     /* permission bits, default 0660 */
        bool keep;                         /* file: leave it in /dev/shm after the run */
};

/* Looking Glass's size for a width x height SDR frame, in MiB: two frames
 * of 4 bytes a pixel, plus 10 MiB, rounded up to a power of two
 * (docs/facts.md#F-looking-glass-size). Pure. */
uint64_t profile_shmem_auto_mib(unsigned width, unsigned height);

/* The QEMU ids of shmem i: the memory backend's and the device's
 * ("shmem-NAME" both: objects and devices are separate namespaces). */
#define PROFILE_SHMEM_ID_PREFIX "shmem-"

/* Keyboards and mice for the guest: a host evdev node that QEMU reads and
 * forwards (QEMU's input-linux object: the host's keyboard goes to the
 * guest until the grab-toggle keys are pressed), or a virtio input device
 * on its own root port. An element is one or the other: {"evdev": PATH, ...}
 * or {"type": "virtio-..."}. The evdev node is handed to QEMU's user for the
 * run (host/input.h). */
#define PROFILE_INPUTS_MAX 8
enum input_type {
        INPUT_EVDEV = 0,         /* "evdev": PATH; spelt by the key, not by "type" */
        INPUT_VIRTIO_KEYBOARD,   /* virtio-keyboard-pci */
        INPUT_VIRTIO_MOUSE,      /* virtio-mouse-pci */
        INPUT_VIRTIO_TABLET,     /* virtio-tablet-pci: absolute pointer */
};
/* QEMU's GrabToggleKeys (qapi/common.json), the keys that move the evdev
 * between host and guest. DEFAULT: left out, QEMU's own (ctrl-ctrl). */
enum grab_toggle {
        GRAB_TOGGLE_DEFAULT = 0,
        GRAB_TOGGLE_CTRL_CTRL,
        GRAB_TOGGLE_ALT_ALT,
        GRAB_TOGGLE_SHIFT_SHIFT,
        GRAB_TOGGLE_META_META,
        GRAB_TOGGLE_SCROLLLOCK,
        GRAB_TOGGLE_CTRL_SCROLLLOCK,
};

struct profile_input {
        enum input_type type;
        char evdev[PROFILE_PATH_MAX];      /* INPUT_EVDEV: absolute, "/dev/input/by-id/...-event-kbd" */
        bool grab_all;                     /* the toggle grabs every evdev input, not only this one */
        bool repeat;                       /* pass the host's key repeat on */
        enum grab_toggle grab_toggle;
};

/* The QEMU id of input i: the input-linux object's or the virtio device's
 * ("input0", by its index in "inputs"). */
#define PROFILE_ID_INPUT_PREFIX "input"

enum display_type { DISPLAY_NONE = 0, DISPLAY_SPICE };
enum spice_compression {
        SPICE_COMPRESSION_DEFAULT = 0,
        SPICE_COMPRESSION_OFF,
        SPICE_COMPRESSION_AUTO_GLZ,
        SPICE_COMPRESSION_AUTO_LZ,
        SPICE_COMPRESSION_QUIC,
        SPICE_COMPRESSION_GLZ,
        SPICE_COMPRESSION_LZ,
};

struct profile_display {
        enum display_type type;
        unsigned port;                     /* 0 = autoport: the launcher picks a free one from 5900 */
        char listen[PROFILE_STR_MAX];      /* default "127.0.0.1" */
        enum spice_compression image_compression;
        bool gl;
        char rendernode[PROFILE_PATH_MAX]; /* "" = none */
        char password_file[PROFILE_PATH_MAX]; /* "" = no password: disable-ticketing=on */
        char video[PROFILE_STR_MAX];       /* emulated adapter besides the GPU: "" = none, "qxl", "virtio", "std" */
        /* The SPICE agent's channel (virtio-serial + spicevmc vdagent):
         * DEFAULT = on with SPICE, as virt-manager adds it;
         * profile_spice_agent() resolves it. */
        enum profile_switch agent;
        enum profile_switch clipboard;     /* OFF: disable-copy-paste=on */
        enum profile_switch file_transfer; /* OFF: disable-agent-file-xfer=on */
        /* USB devices the SPICE client may redirect into the guest at the
         * same time (usb-redir on spicevmc "usbredir"): 0..USB_REDIRECT_MAX. */
        unsigned usb_redirect;
};

#define PROFILE_USB_REDIRECT_MAX 4 /* the USB 2 ports of one xHCI controller (QEMU's p2=4) */

/* The guest's USB controller. DEFAULT: none, unless something needs USB
 * (display.usb_redirect, usb.devices): then qemu-xhci, as libvirt adds one to a q35
 * guest. profile_usb_controller() resolves it. */
enum usb_controller {
        USB_CONTROLLER_DEFAULT = 0,
        USB_CONTROLLER_NONE,
        USB_CONTROLLER_QEMU_XHCI, /* qemu-xhci: QEMU's own xHCI, what libvirt picks */
        USB_CONTROLLER_NEC_XHCI,  /* nec-usb-xhci: for guests without a driver for QEMU's */
};

/* A USB device of the host passed through to the guest (QEMU's usb-host on
 * the profile's controller), named either by its ids — vendor:product, and
 * its serial number where two alike are plugged in — or by where it is
 * plugged in: the bus and the port path ("1.2": port 2 of the hub on port
 * 1). Which node that is, is the host's to say at run time (host/usb.h). */
#define PROFILE_USB_DEVICES_MAX 8
#define PROFILE_USB_SERIAL_MAX 128 /* a string descriptor: 126 UTF-16 units; longer ones are refused */
#define PROFILE_USB_PORT_MAX 32    /* "1.2.3.4.5.6.7": the USB spec's 7 tiers, hubs of up to 255 ports */
struct profile_usb_device {
        bool by_port;                       /* false: by vendor:product (+ serial) */
        uint16_t vendor, product;           /* by ids */
        char serial[PROFILE_USB_SERIAL_MAX]; /* by ids: "" = any serial */
        unsigned bus;                       /* by port: the host's bus number, 1.. */
        char port[PROFILE_USB_PORT_MAX];    /* by port: "1" or "1.2" ... */
        bool optional;                      /* "required": false: a run without it, with a warning */
};

struct profile_usb {
        enum usb_controller controller;
        unsigned n_devices;
        struct profile_usb_device devices[PROFILE_USB_DEVICES_MAX];
};

/* The guest's clocks, libvirt's <clock>: Windows keeps its RTC in local
 * time and wants lost timer ticks made up (see the "os" presets). */
enum rtc_base { RTC_BASE_DEFAULT = 0, RTC_BASE_UTC, RTC_BASE_LOCALTIME };
enum rtc_driftfix { RTC_DRIFTFIX_DEFAULT = 0, RTC_DRIFTFIX_NONE, RTC_DRIFTFIX_SLEW };
/* The in-kernel PIT's lost-tick policy: QEMU's kvm-pit takes only these two
 * (docs/facts.md#F-lost-tick-policy). */
enum tick_policy { TICK_POLICY_DEFAULT = 0, TICK_POLICY_DELAY, TICK_POLICY_DISCARD };

struct profile_clock {
        enum rtc_base rtc;                 /* -rtc base= */
        enum rtc_driftfix driftfix;        /* -rtc driftfix= (libvirt: rtc tickpolicy catchup = slew) */
        enum tick_policy tick_policy;      /* kvm-pit.lost_tick_policy */
        enum profile_switch hpet;          /* -machine hpet= */
};

/* SMBIOS strings the guest sees (types 0-3), by field: profile_smbios_fields[]
 * says which type, key, QEMU option and host file each one is. */
enum smbios_mode { SMBIOS_NONE = 0, SMBIOS_HOST, SMBIOS_EXPLICIT };

enum smbios_field {
        SMBIOS_BIOS_VENDOR, SMBIOS_BIOS_VERSION, SMBIOS_BIOS_DATE, SMBIOS_BIOS_RELEASE,
        SMBIOS_SYSTEM_MANUFACTURER, SMBIOS_SYSTEM_PRODUCT, SMBIOS_SYSTEM_VERSION, SMBIOS_SYSTEM_SERIAL,
        SMBIOS_SYSTEM_UUID, SMBIOS_SYSTEM_SKU, SMBIOS_SYSTEM_FAMILY,
        SMBIOS_BOARD_MANUFACTURER, SMBIOS_BOARD_PRODUCT, SMBIOS_BOARD_VERSION, SMBIOS_BOARD_SERIAL,
        SMBIOS_BOARD_ASSET, SMBIOS_BOARD_LOCATION,
        SMBIOS_CHASSIS_MANUFACTURER, SMBIOS_CHASSIS_VERSION, SMBIOS_CHASSIS_SERIAL, SMBIOS_CHASSIS_ASSET,
        SMBIOS_CHASSIS_SKU,
        SMBIOS_FIELDS_N
};

struct smbios_field_info {
        unsigned type;                     /* SMBIOS structure type: 0 BIOS, 1 system, 2 board, 3 chassis */
        const char *section, *key;         /* in the profile: "smbios": {"system": {"serial": ...}} */
        const char *qemu_key;              /* -smbios type=N,KEY= */
        const char *dmi;                   /* file in /sys/class/dmi/id for "host", NULL = not copied */
};

extern const struct smbios_field_info profile_smbios_fields[SMBIOS_FIELDS_N];

/* Why value cannot be field f (a phrase: "is not a date MM/DD/YYYY"), or
 * NULL: 1..64 printable ASCII characters, and the formats QEMU and the
 * specification give the date, the release and the UUID. */
const char *profile_smbios_value_refused(enum smbios_field f, const char *value);

#define PROFILE_SMBIOS_STR_MAX 65          /* incl. NUL: SMBIOS strings real firmware writes are short */

struct profile_smbios {
        enum smbios_mode mode;
        char field[SMBIOS_FIELDS_N][PROFILE_SMBIOS_STR_MAX]; /* "" = QEMU's default */
};

enum watchdog_model { WATCHDOG_NONE = 0, WATCHDOG_ITCO, WATCHDOG_I6300ESB };
enum watchdog_action {
        WATCHDOG_ACTION_RESET = 0, WATCHDOG_ACTION_SHUTDOWN, WATCHDOG_ACTION_POWEROFF,
        WATCHDOG_ACTION_PAUSE, WATCHDOG_ACTION_INJECT_NMI, WATCHDOG_ACTION_DEBUG, WATCHDOG_ACTION_NONE,
};

struct profile_watchdog {
        enum watchdog_model model;
        enum watchdog_action action;       /* -action watchdog= (QEMU's default: reset) */
};

/* "os": a preset of what a careful libvirt or Proxmox user sets for that
 * guest, under the profile's own keys (profile_json_preset.c). */
enum os_preset { OS_NONE = 0, OS_WINDOWS11, OS_WINDOWS10, OS_LINUX, OS_OTHER };

#define PROFILE_PRESET_SET_MAX 48
#define PROFILE_PRESET_SET_LEN 96          /* "$.cpu.hyperv.spinlocks: 8191" */

/* "qemu_args": appended to the command line as given, after the launcher's
 * own; profile_qemu_arg_refused() says which would defeat the launcher. */
#define PROFILE_QEMU_ARGS_MAX 64
#define PROFILE_QEMU_ARG_MAX 1024          /* incl. NUL */

/* "host_handover": what the host lets go of before its only GPU (the one
 * the host's display runs on) can go to vfio-pci, and takes back after the
 * run — in this order, each journaled before it happens (host/handover.h):
 * the units stopped (a display manager), fbcon's virtual consoles and the
 * firmware framebuffers unbound, the modules unloaded. */
#define PROFILE_HANDOVER_UNITS_MAX 8
#define PROFILE_HANDOVER_MODULES_MAX 16
#define PROFILE_UNIT_NAME_MAX 256  /* systemd's longest unit name (255) + NUL */
#define PROFILE_MODULE_NAME_MAX 56 /* the kernel's MODULE_NAME_LEN on 64-bit, incl. NUL */

struct profile_handover {
        bool enabled;                  /* the key is present */
        unsigned n_units;
        char units[PROFILE_HANDOVER_UNITS_MAX][PROFILE_UNIT_NAME_MAX]; /* stopped in this order */
        bool vtconsoles;               /* unbind fbcon's virtual consoles */
        bool framebuffers;             /* unbind the firmware framebuffers */
        unsigned n_modules;
        char modules[PROFILE_HANDOVER_MODULES_MAX][PROFILE_MODULE_NAME_MAX]; /* unloaded in this order */
};

struct profile {
        char name[PROFILE_NAME_MAX];
        char source[PROFILE_PATH_MAX];     /* the file it was loaded from (absolute), for messages */
        char machine[PROFILE_STR_MAX];     /* default "q35"; versioned pc-q35-X.Y accepted */
        enum accel_type accel;             /* default kvm */
        enum pci_hotplug_mode pci_hotplug; /* default native */
        char user[PROFILE_STR_MAX];        /* run-as user; "" = the user behind sudo/pkexec */
        bool allow_root;                   /* run QEMU as root if user resolves to root (warned) */
        bool allow_shared_user;            /* with hostdevs, run QEMU as a shared account like nobody (warned) */
        uint64_t memory_mib;
        struct profile_hugepages hugepages;
        struct profile_firmware firmware;
        struct profile_boot boot;
        struct profile_cpu cpu;
        struct profile_clock clock;
        struct profile_smbios smbios;
        struct profile_watchdog watchdog;

        unsigned n_hostdevs;
        struct profile_hostdev hostdevs[PROFILE_HOSTDEVS_MAX];
        /* Other endpoints of the hostdevs' IOMMU groups the user allows to be
         * moved to vfio-pci for the run (and given back after). */
        unsigned n_allow_detach;
        struct pci_addr allow_detach[PROFILE_ALLOW_DETACH_MAX];
        bool allow_boot_vga;               /* allow taking the boot VGA / framebuffer device */
        bool allow_in_use;                 /* allow taking a device open by a process */
        struct profile_handover host_handover;

        unsigned n_iothreads;
        struct profile_iothread iothreads[PROFILE_IOTHREADS_MAX];
        unsigned n_disks;
        struct profile_disk disks[PROFILE_DISKS_MAX];
        unsigned n_nics;
        struct profile_nic nics[PROFILE_NICS_MAX];
        struct profile_sound sound;
        struct profile_display display;
        bool balloon;
        struct profile_tpm tpm;
        struct profile_usb usb;
        unsigned n_shmem;
        struct profile_shmem shmem[PROFILE_SHMEM_MAX];
        unsigned n_inputs;
        struct profile_input inputs[PROFILE_INPUTS_MAX];
        unsigned shutdown_timeout_s;       /* default 120 */
        unsigned powerdown_repeat_s;       /* second power button press after this; 0 = once; default 1 */
        enum os_preset os;
        /* What the preset set because the profile did not: "PATH: VALUE"
         * (JSON), in the order set, for print. */
        unsigned n_preset_set;
        char preset_set[PROFILE_PRESET_SET_MAX][PROFILE_PRESET_SET_LEN];
        unsigned n_qemu_args;
        char qemu_args[PROFILE_QEMU_ARGS_MAX][PROFILE_QEMU_ARG_MAX];
};

/* Fill p with every default (a VM named name, q35, UEFI, 1 GiB, 1 vCPU host,
 * no devices). */
void profile_init(struct profile *p, const char *name);

/* Cross-field rules the loader cannot check field by field: topology
 * multiplies out, guest addresses do not collide, same-slot has a function 0,
 * hostdev ids unique, secure boot needs UEFI, ... Fills e (path only, no
 * line/column: the loader adds the position) and returns -EINVAL, or 0.
 * May add warnings (w may be NULL). */
int profile_validate(const struct profile *p, struct vl_error *e, struct vl_warnings *w);

/* Device ids: one namespace in QEMU for every device, so one rule here.
 * A device's id is its "id" in the profile, or "KINDi" by its index
 * ("hostdev0", "disk1", "net0"). The command line names its own devices
 * with the ids below and "pci.N" (the root ports); a profile may not. */
enum profile_device_kind {
        PROFILE_DEVICE_HOSTDEV,
        PROFILE_DEVICE_DISK,
        PROFILE_DEVICE_NIC,
};

#define PROFILE_ID_VIDEO "video0"
#define PROFILE_ID_SOUND "sound0"
#define PROFILE_ID_SOUND_CODEC "sound0-codec0"
#define PROFILE_ID_BALLOON "balloon0"
#define PROFILE_ID_TPM "tpm0"             /* only with "tpm": refused then, free otherwise */
#define PROFILE_ID_WATCHDOG "watchdog0"
#define PROFILE_ID_VIRTIO_SERIAL "virtio-serial0" /* the SPICE agent's controller */
#define PROFILE_ID_AGENT_PORT "channel0"          /* its vdagent port */
#define PROFILE_ID_USB "usb0"                     /* the USB controller */
#define PROFILE_ID_USB_REDIR_PREFIX "redir"       /* redir0.. : the SPICE client's USB devices */
#define PROFILE_ID_USB_HOST_PREFIX "usbhost"     /* usbhost0.. : the host's USB devices, by index in usb.devices */
#define PROFILE_ID_SCSI "scsi0"           /* the virtio-scsi controller: only with a scsi disk */

/* Whether any disk, hostdev or NIC has a "boot" order. Without one the
 * disks boot in profile order (bootindex 1, 2, ...); with one, only the
 * devices that name an order get a bootindex. */
bool profile_boot_order(const struct profile *p);

/* The id of device i of kind (explicit or default), in buf; returns buf. */
const char *profile_device_id(const struct profile *p, enum profile_device_kind kind, unsigned i,
                              char buf[static PROFILE_STR_MAX]);

/* The VM name rule, for every place a name becomes a file or folder name
 * (RUN/NAME, NAME_VARS.fd, NAME.log): 1..63 of [A-Za-z0-9_.-], not starting
 * with '.' or '-'. */
bool profile_name_valid(const char *name);

/* A user or group name: 1..32 of [A-Za-z0-9_.-], not starting with '-'. */
bool profile_user_valid(const char *name);

/* The rules of "shmem" (profile_shmem.c), for profile_validate(). */
int profile_validate_shmem(const struct profile *p, struct vl_error *e);

/* The rules of "usb.devices" (profile_usb.c), for profile_validate(). */
int profile_validate_usb_devices(const struct profile *p, struct vl_error *e);

/* "046d:c52b" / "bus 3 port 1.2" (and " serial \"...\"") for messages
 * and print. */
void profile_usb_device_describe(const struct profile_usb_device *d, char *buf, size_t size);

/* The rules of "inputs" (profile_input.c), for profile_validate(). */
int profile_validate_inputs(const struct profile *p, struct vl_error *e);
/* profile_handover.c: the rules of "host_handover"; and whether name is a
 * unit name systemd accepts (NAME.TYPE, or NAME@INSTANCE.TYPE) and a module
 * name the kernel does (A-Z a-z 0-9 _ -). */
int profile_validate_handover(const struct profile *p, struct vl_error *e);
bool profile_unit_name_valid(const char *name);
bool profile_module_name_valid(const char *name);

/* A network interface name as the kernel's dev_valid_name() accepts it, and
 * without ',' (it would end a QEMU option): 1..15 bytes, no '/', ':',
 * white space or control characters, not "." or "..". */
bool profile_ifname_valid(const char *name);

/* How profiles spell each enum (profile_names.c): the one table of each,
 * used by the loader, the printers and messages. NULL past the last value;
 * "" is a default chosen by leaving the key out. */
const char *profile_accel_name(unsigned v);
const char *profile_pci_hotplug_name(unsigned v);
const char *profile_firmware_name(unsigned v);
const char *profile_hugepage_size_name(unsigned v);
const char *profile_disk_format_name(unsigned v);
const char *profile_disk_bus_name(unsigned v);
const char *profile_disk_cache_name(unsigned v);
const char *profile_disk_discard_name(unsigned v);
const char *profile_disk_detect_zeroes_name(unsigned v);
const char *profile_disk_aio_name(unsigned v);
const char *profile_nic_backend_name(unsigned v);
const char *profile_macvtap_mode_name(unsigned v);
const char *profile_sound_model_name(unsigned v);
const char *profile_sound_backend_name(unsigned v);
const char *profile_display_type_name(unsigned v);
const char *profile_image_compression_name(unsigned v);
const char *profile_video_name(unsigned v);
const char *profile_tpm_model_name(unsigned v);
const char *profile_usb_controller_name(unsigned v);
const char *profile_shmem_backend_name(unsigned v);
const char *profile_input_type_name(unsigned v);
const char *profile_grab_toggle_name(unsigned v);
const char *profile_cpu_cache_name(unsigned v);
const char *profile_rtc_base_name(unsigned v);
const char *profile_rtc_driftfix_name(unsigned v);
const char *profile_tick_policy_name(unsigned v);
const char *profile_watchdog_model_name(unsigned v);
const char *profile_watchdog_action_name(unsigned v);
const char *profile_os_name(unsigned v);

/* Why "qemu_args" may not hold arg (a sentence for the message), or NULL:
 * the options the launcher owns (-sandbox, -runas, -qmp, -S, a second
 * -machine, ...). Applies to every element, whatever its position: a value
 * that looks like one of them is refused too rather than guessed at. */
const char *profile_qemu_arg_refused(const char *arg);

/* A hugepage size in KiB (2048, 1048576); 0 for an unknown value. */
uint64_t profile_hugepage_kib(enum hugepage_size s);

/* "8G", "8192M", "8388608K", "1T", plain number = MiB. Binary units.
 * Returns 0, -EINVAL (not a size), -EDOM (K not a whole MiB), -ERANGE
 * (overflows 64 bits). No range check against the PROFILE_MEMORY_* limits. */
int profile_parse_memory_mib(const char *s, uint64_t *ret_mib);

/* "52:54:00:7a:90:b9"; either case; no multicast (bit 0 of byte 0).
 * Returns 0, -EINVAL (not a MAC), -EADDRNOTAVAIL (multicast or all zero). */
int profile_parse_mac(const char *s, uint8_t ret[6]);

/* NIC i's MAC: the profile's, else profile_derive_mac()'s. */
void profile_nic_mac(const struct profile *p, unsigned i, uint8_t ret[6]);

/* Whether the guest gets the SPICE agent's channel: a SPICE display whose
 * "agent" is not false. */
bool profile_spice_agent(const struct profile *p);

/* The guest's USB controller, the default resolved (never DEFAULT). */
enum usb_controller profile_usb_controller(const struct profile *p);

/* A stable locally administered MAC 52:54:00:xx:xx:xx derived from the VM name
 * and the NIC index (same name, same MAC, every run). */
void profile_derive_mac(const char *name, unsigned index, uint8_t ret[6]);
