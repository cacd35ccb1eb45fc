/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How profiles spell every enum: one table each, used by the loader (which
 * accepts exactly these), by the printers and by messages. Pure.
 */
#include "profile/profile.h"

/* const char *FN(unsigned v): the spelling of value v, NULL past the end. */
#define NAMES(fn, ...)                                                                               \
        const char *fn(unsigned v)                                                                   \
        {                                                                                            \
                static const char *const names[] = { __VA_ARGS__ };                                  \
                return v < ELEMENTSOF(names) ? names[v] : NULL;                                      \
        }

NAMES(profile_accel_name, [ACCEL_KVM] = "kvm", [ACCEL_TCG] = "tcg")
NAMES(profile_pci_hotplug_name, [PCI_HOTPLUG_NATIVE] = "native", [PCI_HOTPLUG_ACPI] = "acpi")
NAMES(profile_firmware_name, [FIRMWARE_UEFI] = "uefi", [FIRMWARE_BIOS] = "bios")
NAMES(profile_hugepage_size_name, [HUGEPAGE_2M] = "2M", [HUGEPAGE_1G] = "1G")
NAMES(profile_disk_format_name, [DISK_QCOW2] = "qcow2", [DISK_RAW] = "raw")
NAMES(profile_disk_bus_name, [DISK_BUS_SATA] = "sata", [DISK_BUS_VIRTIO] = "virtio", [DISK_BUS_NVME] = "nvme",
      [DISK_BUS_SCSI] = "scsi")
NAMES(profile_disk_cache_name, [DISK_CACHE_DEFAULT] = "", [DISK_CACHE_NONE] = "none",
      [DISK_CACHE_WRITEBACK] = "writeback", [DISK_CACHE_UNSAFE] = "unsafe")
NAMES(profile_disk_discard_name, [DISK_DISCARD_DEFAULT] = "", [DISK_DISCARD_UNMAP] = "unmap",
      [DISK_DISCARD_IGNORE] = "ignore")
NAMES(profile_disk_detect_zeroes_name, [DISK_DZ_DEFAULT] = "", [DISK_DZ_OFF] = "off", [DISK_DZ_ON] = "on",
      [DISK_DZ_UNMAP] = "unmap")
/* QEMU's BlockdevAioOptions spellings. */
NAMES(profile_disk_aio_name, [DISK_AIO_DEFAULT] = "", [DISK_AIO_THREADS] = "threads", [DISK_AIO_NATIVE] = "native",
      [DISK_AIO_IO_URING] = "io_uring")
NAMES(profile_nic_backend_name, [NIC_USER] = "user", [NIC_MACVTAP] = "macvtap", [NIC_TAP] = "tap")
NAMES(profile_macvtap_mode_name, [MACVTAP_BRIDGE] = "bridge", [MACVTAP_VEPA] = "vepa",
      [MACVTAP_PRIVATE] = "private", [MACVTAP_PASSTHRU] = "passthru")
NAMES(profile_sound_model_name, [SOUND_NONE] = "none", [SOUND_AC97] = "ac97", [SOUND_ICH9] = "ich9",
      [SOUND_ICH6] = "ich6")
NAMES(profile_sound_backend_name, [AUDIO_NONE] = "none", [AUDIO_ALSA] = "alsa", [AUDIO_PA] = "pa",
      [AUDIO_PIPEWIRE] = "pipewire", [AUDIO_SPICE] = "spice", [AUDIO_WAV] = "wav")
NAMES(profile_display_type_name, [DISPLAY_NONE] = "none", [DISPLAY_SPICE] = "spice")
NAMES(profile_image_compression_name, [SPICE_COMPRESSION_DEFAULT] = "", [SPICE_COMPRESSION_OFF] = "off",
      [SPICE_COMPRESSION_AUTO_GLZ] = "auto_glz", [SPICE_COMPRESSION_AUTO_LZ] = "auto_lz",
      [SPICE_COMPRESSION_QUIC] = "quic", [SPICE_COMPRESSION_GLZ] = "glz", [SPICE_COMPRESSION_LZ] = "lz")
/* "video" is a string in the model ("" = none); these are its values. */
NAMES(profile_video_name, "none", "qxl", "virtio", "std")
NAMES(profile_usb_controller_name, [USB_CONTROLLER_DEFAULT] = "", [USB_CONTROLLER_NONE] = "none",
      [USB_CONTROLLER_QEMU_XHCI] = "qemu-xhci", [USB_CONTROLLER_NEC_XHCI] = "nec-xhci")
NAMES(profile_shmem_backend_name, [SHMEM_BACKEND_FILE] = "file", [SHMEM_BACKEND_KVMFR] = "kvmfr")
/* "evdev" is not a "type": an evdev input is spelt by its "evdev" key. */
NAMES(profile_input_type_name, [INPUT_EVDEV] = "", [INPUT_VIRTIO_KEYBOARD] = "virtio-keyboard",
      [INPUT_VIRTIO_MOUSE] = "virtio-mouse", [INPUT_VIRTIO_TABLET] = "virtio-tablet")
NAMES(profile_grab_toggle_name, [GRAB_TOGGLE_DEFAULT] = "", [GRAB_TOGGLE_CTRL_CTRL] = "ctrl-ctrl",
      [GRAB_TOGGLE_ALT_ALT] = "alt-alt", [GRAB_TOGGLE_SHIFT_SHIFT] = "shift-shift",
      [GRAB_TOGGLE_META_META] = "meta-meta", [GRAB_TOGGLE_SCROLLLOCK] = "scrolllock",
      [GRAB_TOGGLE_CTRL_SCROLLLOCK] = "ctrl-scrolllock")
NAMES(profile_tpm_model_name, [TPM_MODEL_CRB] = "crb", [TPM_MODEL_TIS] = "tis", [TPM_MODEL_NONE] = "none")
NAMES(profile_cpu_cache_name, [CPU_CACHE_DEFAULT] = "", [CPU_CACHE_PASSTHROUGH] = "passthrough",
      [CPU_CACHE_EMULATE] = "emulate", [CPU_CACHE_DISABLE] = "disable")
NAMES(profile_rtc_base_name, [RTC_BASE_DEFAULT] = "", [RTC_BASE_UTC] = "utc", [RTC_BASE_LOCALTIME] = "localtime")
NAMES(profile_rtc_driftfix_name, [RTC_DRIFTFIX_DEFAULT] = "", [RTC_DRIFTFIX_NONE] = "none",
      [RTC_DRIFTFIX_SLEW] = "slew")
NAMES(profile_tick_policy_name, [TICK_POLICY_DEFAULT] = "", [TICK_POLICY_DELAY] = "delay",
      [TICK_POLICY_DISCARD] = "discard")
NAMES(profile_watchdog_model_name, [WATCHDOG_NONE] = "none", [WATCHDOG_ITCO] = "itco",
      [WATCHDOG_I6300ESB] = "i6300esb")
/* QEMU's WatchdogAction spellings, as -action watchdog= takes them. */
NAMES(profile_watchdog_action_name, [WATCHDOG_ACTION_RESET] = "reset", [WATCHDOG_ACTION_SHUTDOWN] = "shutdown",
      [WATCHDOG_ACTION_POWEROFF] = "poweroff", [WATCHDOG_ACTION_PAUSE] = "pause",
      [WATCHDOG_ACTION_INJECT_NMI] = "inject-nmi", [WATCHDOG_ACTION_DEBUG] = "debug",
      [WATCHDOG_ACTION_NONE] = "none")
NAMES(profile_os_name, [OS_NONE] = "", [OS_WINDOWS11] = "windows11", [OS_WINDOWS10] = "windows10",
      [OS_LINUX] = "linux", [OS_OTHER] = "other")
