// Package deploy holds the env-file templates of docker-compose.yml (*.env.example) and the test
// that checks docker-compose.yml and the Dockerfile without a Docker engine.
package deploy
