# hyperion-live: say what this system is, on each login shell of the live system.
[ -r /usr/share/hyperion/live-motd ] && cat /usr/share/hyperion/live-motd
