#!/bin/sh
# Test hook: copies the alert JSON from stdin to $1, then behaves as $2 says.
#   ok        exit 0
#   fail      print to stderr and exit 3
#   hang      sleep (the runner must kill it at its timeout)
out="$1"
cat > "$out.tmp" && mv "$out.tmp" "$out"
case "$2" in
  ok) exit 0 ;;
  fail) echo "mail relay rejected the page: quota exceeded" >&2; exit 3 ;;
  hang) sleep 30; exit 0 ;;
esac
