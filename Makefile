.PHONY: up test bench schemas

up:  ## install and run the whole system on the embedded log
	python3 -m pip install -q -e . && charterwatch up

test:  ## install, start Kafka and PostgreSQL, run every test, stop them
	bash deploy/test.sh

bench:  ## every bench, one at a time, then one table (needs a broker: deploy/kafka/kafka.sh start; BENCH_SIZE=small for a quick run)
	python3 -m pip install -q --disable-pip-version-check -e ".[bench]" && bash bench/run_all.sh

schemas:  ## regenerate docs/events/ and docs/asyncapi.json
	charterwatch events schemas --out docs/events && charterwatch events asyncapi --out docs/asyncapi.json
