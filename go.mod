module github.com/tact-go/tact

go 1.25.0

require (
	github.com/google/differential-privacy/go/v3 v3.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/golang/glog v1.2.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/exp v0.0.0-20240222234643-814bf88cf225 // indirect
	gonum.org/v1/gonum v0.14.0 // indirect
)
