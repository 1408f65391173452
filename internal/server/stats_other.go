//go:build !unix

package server

// cpuSeconds and rss are not measured on this system; Stats reports 0.
func cpuSeconds() float64 { return 0 }

func rss() int64 { return 0 }
