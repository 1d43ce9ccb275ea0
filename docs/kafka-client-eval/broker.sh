#!/usr/bin/env bash
# Single-node KRaft broker (broker+controller) on 127.0.0.1:29092 / 29093, data under /work/scratch/kafka-clients/broker.
# Usage: ./broker.sh start | stop | groups <group>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=/work/main/.streamguard/kafka/lib-4.3.1
DIR=$HERE/broker; DATA=$DIR/data; PROPS=$DIR/server.properties; LOG4J=$DIR/log4j2.properties
CP="$LIB/*"
case "${1:-}" in
start)
  mkdir -p "$DATA"
  cat > "$PROPS" <<P
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:29093
listeners=PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093
advertised.listeners=PLAINTEXT://127.0.0.1:29092
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DATA
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.partitions=3
log.segment.bytes=67108864
P
  cat > "$LOG4J" <<P
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $DIR/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = warn
logger.org.name = org.apache.kafka
logger.org.level = warn
P
  JVM=(-Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true -Dlog4j2.configurationFile=$LOG4J -cp "$CP")
  if [ ! -f "$DATA/meta.properties" ]; then
    ID=$(java -cp "$CP" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java "${JVM[@]}" kafka.tools.StorageTool format -t "$ID" -c "$PROPS" --ignore-formatted
  fi
  nohup java "${JVM[@]}" kafka.Kafka "$PROPS" > "$DIR/broker.out" 2>&1 &
  echo $! > "$DIR/pid"
  for i in $(seq 1 60); do (echo > /dev/tcp/127.0.0.1/29092) 2>/dev/null && { echo "broker up, pid $(cat $DIR/pid)"; exit 0; }; sleep 1; done
  echo "broker did not start; see $DIR/broker.out"; exit 1;;
stop)
  PID=$(cat "$DIR/pid"); kill "$PID" || true
  for i in $(seq 1 30); do kill -0 "$PID" 2>/dev/null || { echo stopped; exit 0; }; sleep 1; done
  kill -9 "$PID"; echo killed;;
groups)
  java -cp "$CP" -Dlog4j2.configurationFile=$LOG4J org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server 127.0.0.1:29092 --describe --group "$2" 2>&1 | grep -v -i 'slf4j\|log4j';;
*) echo "usage: $0 start|stop|groups <group>"; exit 2;;
esac
