import ArgumentParser
import ViciDial

@main
struct AMIBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amibridge",
        abstract: "Follows every Asterisk/ViciDial call over AMI and delivers it to CRMs as webhooks.",
        discussion: "Configuration: one YAML file (see Config/amibridge.example.yaml); every key can be overridden by an environment variable (ami.port → AMI_PORT). Secrets come from the environment.",
        subcommands: [RunCommand.self, DeliverCommand.self, CheckCommand.self, SimulateCommand.self, ReceiveCommand.self, OutboxCommand.self, KeysCommand.self]
    )
}
