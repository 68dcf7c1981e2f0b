//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func run() {
	fmt.Fprintln(os.Stderr, "tactwasm runs in a browser: build it with GOOS=js GOARCH=wasm go build")
	os.Exit(2)
}
