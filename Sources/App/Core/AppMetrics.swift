import Foundation
import Metrics
import Prometheus
import Synchronization

/// The Prometheus registry behind `/metrics`; Vapor's request metrics and ours land in it.
enum AppMetrics {
    static let registry = PrometheusMetricsFactory.defaultRegistry

    private static let bootstrapped = Mutex(false)

    /// Routes swift-metrics into the registry, once per process.
    static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            done = true
        }
    }
}
