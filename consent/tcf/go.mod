module github.com/tact-go/tact/consent/tcf

go 1.25.0

require (
	github.com/SirDataFR/iabtcfv2 v1.2.1
	github.com/prebid/go-gpp v0.2.0
	github.com/stretchr/testify v1.12.1
	github.com/tact-go/tact v0.0.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/tact-go/tact => ../..
