// Command tactwasm is the browser side of package ondevice: built for
// js/wasm, it gives JavaScript a ranker that runs the request-time part of
// package recommend on the person's device, over a model the service
// shipped, with the person's data kept in the browser.
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o tact.wasm ./recommend/ondevice/cmd/tactwasm
//
// Load it with the wasm_exec.js of the same Go release
// ($(go env GOROOT)/lib/wasm/wasm_exec.js). It sets one global object,
// tact, with two functions, and then waits for calls:
//
//	tact.load(model, consent, settings)  // model: Uint8Array of recommend.Model.MarshalBinary;
//	                                     // consent, settings: JSON strings (ondevice.Consent, ondevice.Settings)
//	tact.rank(query)                     // query: JSON string of an ondevice.Query;
//	                                     // returns the JSON string of an ondevice.Result
//
// Each returns, on failure, a JSON string {"error": "..."}; load returns
// "{}" on success. Built for any other platform it only says how to
// build it.
package main

func main() { run() }
