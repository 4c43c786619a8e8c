# profile 'hyperion', normalised: every key, defaults filled in
# read from: profile.conf 10-disks.conf 20-guests.conf 30-seats.conf
# Mirror= empty: the mirror named by the build machine's apt sources
# SourceDateEpoch= empty: the date of the mirror's Release file

[Distribution]
Suite=trixie
Mirror=
Keyring=
Components=main non-free-firmware
Architecture=amd64

[Packages]
Install=bridge-utils console-setup efibootmgr firmware-linux-free grub-efi-amd64 ifupdown isc-dhcp-client keyboard-configuration less linux-image-amd64 locales lvm2 nano openssh-server tzdata xen-system-amd64

[Image]
Label=HYPERION
Compression=zstd
SourceDateEpoch=
OverlayOwners=root

[Host]
Hostname=hyperion
Domain=
Locale=fr_FR.UTF-8
Keymap=fr
Timezone=Europe/Paris
RootAuthorizedKeys=
RootPasswordHash=
KeepIdentity=yes

[Network]
Bridge=xenbr0
Interface=auto
Address=dhcp
Gateway=
DNS=

[Xen]
Dom0Memory=1536M
Dom0VCPUs=0
Ballooning=no
DefaultEntry=yes
CommandLine=console=com1,vga com1=115200,8n1
Dom0CommandLine=console=tty0 console=hvc0

[Disk data]
MatchSize=3TB
MatchSizeTolerance=1%
MatchModel=
MatchSerial=
MatchWWN=
MatchById=
Use=keep
Table=gpt
Mount=/srv/data
MountOptions=defaults
MountPartition=1

[Disk system]
MatchSize=1TB
MatchSizeTolerance=1%
MatchModel=
MatchSerial=
MatchWWN=
MatchById=
Use=format
Table=gpt
Mount=
MountOptions=defaults
MountPartition=1

[Disk vms]
MatchSize=500GB
MatchSizeTolerance=1%
MatchModel=
MatchSerial=
MatchWWN=
MatchById=
Use=format
Table=gpt
Mount=
MountOptions=defaults
MountPartition=1

[Disk spare]
MatchSize=320GB
MatchSizeTolerance=1%
MatchModel=
MatchSerial=
MatchWWN=
MatchById=
Use=ignore
Table=gpt
Mount=
MountOptions=defaults
MountPartition=1

[Partition system/efi]
Size=256M
Type=esp
Format=vfat
Label=
Mount=/boot/efi
MountOptions=defaults
InodeRatio=
VolumeGroup=
Preserve=no

[Partition system/boot]
Size=256M
Type=linux
Format=ext4
Label=
Mount=/boot
MountOptions=defaults
InodeRatio=
VolumeGroup=
Preserve=no

[Partition system/root]
Size=15G
Type=linux
Format=ext4
Label=
Mount=/
MountOptions=defaults
InodeRatio=
VolumeGroup=
Preserve=no

[Partition system/swap]
Size=8G
Type=swap
Format=swap
Label=
Mount=
MountOptions=defaults
InodeRatio=
VolumeGroup=
Preserve=no

[Partition system/storage]
Size=rest
Type=linux
Format=ext4
Label=
Mount=/srv/storage
MountOptions=defaults
InodeRatio=1M
VolumeGroup=
Preserve=yes

[Partition vms/pv]
Size=rest
Type=lvm
Format=none
Label=
Mount=
MountOptions=defaults
InodeRatio=
VolumeGroup=vg0
Preserve=yes

[VolumeGroup vg0]
ExtentSize=4M
Preserve=yes

[Domain hadoop]
Type=pv
Memory=256M
VCPUs=1
Disk=10G
Swap=4G
VolumeGroup=vg0
Bridge=xenbr0
MAC=00:16:3e:0e:6f:2b
Address=dhcp
Gateway=
DNS=
Filesystem=ext4
Autostart=yes
Overlay=
Packages=

[Domain io]
Type=pv
Memory=128M
VCPUs=1
Disk=4G
Swap=128M
VolumeGroup=vg0
Bridge=xenbr0
MAC=00:16:3e:0b:93:1a
Address=dhcp
Gateway=
DNS=
Filesystem=ext4
Autostart=yes
Overlay=
Packages=

[Domain tethys]
Type=pv
Memory=128M
VCPUs=1
Disk=2G
Swap=128M
VolumeGroup=vg0
Bridge=xenbr0
MAC=00:16:3e:28:53:11
Address=dhcp
Gateway=
DNS=
Filesystem=ext4
Autostart=yes
Overlay=
Packages=

[Seat seat0]
Card=i915
Input=auto
Audio=PCH
Application=kodi
User=kodi-seat0
Memory=256M

[Seat seat1]
Card=nouveau
Input=auto
Audio=auto
Application=kodi
User=kodi-seat1
Memory=256M
