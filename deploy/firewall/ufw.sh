#!/bin/sh
# wirelab firewall plan --backend ufw --config deploy/seeds.txt --peer-ports 7100 (regenerate with that command)
# Undo: wirelab firewall undo --backend ufw (deletes the rules whose comment starts with wirelab)
set -e
ufw allow 22/tcp comment 'wirelab allow'
ufw allow 12345/udp comment 'wirelab broadcast node'
ufw allow proto udp from any port 12345 comment 'wirelab broadcast acks'
ufw allow 7000/tcp comment 'wirelab gossip seed'
ufw allow 7100/tcp comment 'wirelab gossip peer'
ufw allow 10000/tcp comment 'wirelab chat'
