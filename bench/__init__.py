"""camaudit's benchmark harness: emulated namespace sites against ``nmap -sV``, and two
micro-benchmarks (identification, report rendering). Run it with ``bench/run`` (root)."""
