import Fluent
import Foundation
import NIOCore
import TandemCore

/// Delivers what is due in the outbox: mail and SMS over one SMTP session per run, webhook calls
/// a few at a time. At least once:
/// a message is marked sent after the server has accepted it, so a process killed in between sends
/// it again after its lease, with the same Message-ID.
enum OutboxDelivery {
    /// Messages claimed per run: one SMTP session, one transaction for their results.
    static let batch = 100

    /// Why mail waits, for the outbox API and the admin page; nil when it can go.
    static func mailBlocked(_ settings: AppSettings) -> String? {
        settings.mail == nil ? "TANDEM_SMTP_URL is not set: mail and SMS wait in the outbox until it is" : nil
    }

    /// One run: claims due messages of the channels that can be delivered and delivers them.
    /// Answers how many it handled (sent or failed).
    @discardableResult
    static func run(on db: any Database, settings: AppSettings, group: any EventLoopGroup) async throws -> Int {
        var channels: Set<OutboxMessage.Channel> = [.webhook]
        if settings.mail != nil { channels.formUnion([.email, .sms]) }
        let messages = try await Outbox.claim(channels, limit: batch, lease: settings.options.outboxLease, on: db)
        guard !messages.isEmpty else { return 0 }
        var results: [(UUID, Outbox.Result)] = []
        let mail = messages.filter { $0.channel == .email || $0.channel == .sms }
        if let smtp = settings.mail, !mail.isEmpty {
            results += await send(mail, smtp, group: group)
        }
        let calls = messages.filter { $0.channel == .webhook }
        if !calls.isEmpty {
            results += try await call(calls, settings: settings, now: db.now, on: db, group: group)
        }
        try await Outbox.record(results, on: db)
        return results.count
    }

    /// Sends over one session; when the session breaks, the messages not yet answered get its error
    /// (a passing failure: they are tried again later).
    private static func send(_ messages: [OutboxMessage], _ smtp: SMTPSettings, group: any EventLoopGroup) async -> [(UUID, Outbox.Result)] {
        let results = ResultsBox()
        do {
            try await SMTPClient.session(smtp, on: group) { session in
                for message in messages {
                    do {
                        try await session.send(SMTPClient.Envelope(recipients: [message.recipient], data: message.body))
                        results.values.append((message.id!, .sent))
                    } catch let failure as SMTPClient.Failure where failure.code != nil {
                        results.values.append((message.id!, .failed(failure.description, permanent: failure.permanent)))
                    }
                }
            }
        } catch {
            let answered = Set(results.values.map(\.0))
            for message in messages where !answered.contains(message.id!) {
                results.values.append((message.id!, .failed("\(error)", permanent: false)))
            }
        }
        return results.values
    }

    /// Webhook calls, a few at a time: one slow receiver does not hold up the others.
    private static func call(
        _ messages: [OutboxMessage], settings: AppSettings, now: Date, on db: any Database, group: any EventLoopGroup
    ) async throws -> [(UUID, Outbox.Result)] {
        let ids = Set(messages.compactMap(\.webhookId))
        let secrets = Dictionary(
            uniqueKeysWithValues: try await Webhook.query(on: db).filter(\.$id ~~ ids).all().map { hook in
                (hook.id!, Result { try WebhookSecrets.read(hook, on: db) })
            })
        let ssrf = settings.webhookGuard
        return await withTaskGroup(of: (UUID, Outbox.Result).self) { tasks in
            var results: [(UUID, Outbox.Result)] = []
            var pending = messages[...]
            func next() {
                guard let message = pending.popFirst() else { return }
                let secret = message.webhookId.flatMap { secrets[$0] }
                tasks.addTask { (message.id!, await WebhookDelivery.send(message, secret: secret, guard: ssrf, now: now, group: group)) }
            }
            for _ in 0..<8 { next() }
            while let result = await tasks.next() {
                results.append(result)
                next()
            }
            return results
        }
    }

    /// Results gathered inside the session's closure.
    private final class ResultsBox: @unchecked Sendable {
        var values: [(UUID, Outbox.Result)] = []
    }
}
