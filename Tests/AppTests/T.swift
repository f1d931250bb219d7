import Testing
import VaporTesting
@testable import App
@Test func t() {}
