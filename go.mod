module github.com/atomicflow/atomicflow

go 1.26

require (
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.43.0 // indirect
)
