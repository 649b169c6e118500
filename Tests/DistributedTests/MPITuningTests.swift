import Distributed
import Foundation
import XCTest

/// The Open MPI setting MPICommunicator makes before MPI_Init.
final class MPITuningTests: XCTestCase {
    let variable = "OMPI_MCA_coll_libnbc_iallreduce_algorithm"

    override func tearDown() { unsetenv(variable) }

    func testRingAllReduceIsChosenWhenTheUserChoseNothing() {
        unsetenv(variable)
        MPICommunicator.preferRingAllReduce()
        XCTAssertEqual(ProcessInfo.processInfo.environment[variable], "1")
    }

    func testTheUsersChoiceIsKept() {
        setenv(variable, "4", 1)
        MPICommunicator.preferRingAllReduce()
        XCTAssertEqual(ProcessInfo.processInfo.environment[variable], "4")
    }
}
