import Distributed
import XCTest

/// Which launch environments mean MPI, and what the factory makes outside them.
final class CommunicatorFactoryTests: XCTestCase {
    func testPlainEnvironmentGivesLocalCommunicator() throws {
        let environment = ["PATH": "/usr/bin", "HOME": "/root", "SLURM_PROCID": "0"]
        XCTAssertFalse(CommunicatorFactory.isLaunchedByMPI(environment: environment))
        let communicator = try CommunicatorFactory.make(environment: environment)
        XCTAssertTrue(communicator is LocalCommunicator)
    }

    func testLauncherVariablesMeanMPI() {
        for variable in ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"] {
            XCTAssertTrue(CommunicatorFactory.isLaunchedByMPI(environment: [variable: "1"]), variable)
        }
    }

    func testSlurmMeansMPIOnlyForAStepOfSeveralTasks() {
        let oneTask = ["SLURM_PROCID": "0", "SLURM_NTASKS": "1"]
        let fourTasks = ["SLURM_PROCID": "3", "SLURM_NTASKS": "4"]
        let batchOfFourStepOfOne = ["SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_STEP_NUM_TASKS": "1"]
        let tasksWithoutProcID = ["SLURM_NTASKS": "4"]
        XCTAssertFalse(CommunicatorFactory.isLaunchedByMPI(environment: oneTask))
        XCTAssertTrue(CommunicatorFactory.isLaunchedByMPI(environment: fourTasks))
        XCTAssertFalse(CommunicatorFactory.isLaunchedByMPI(environment: batchOfFourStepOfOne))
        XCTAssertFalse(CommunicatorFactory.isLaunchedByMPI(environment: tasksWithoutProcID))
    }

    func testMPIErrorDescriptionNamesOperationMessageAndCode() {
        let withCode = MPIError(operation: "MPI_Bcast", code: 8, message: "MPI_ERR_ROOT: invalid root")
        let withoutCode = MPIError(operation: "MPI_Barrier", code: nil, message: "MPI was finalized already")
        XCTAssertEqual(withCode.description, "MPI_Bcast failed: MPI_ERR_ROOT: invalid root (MPI error code 8)")
        XCTAssertEqual(withoutCode.description, "MPI_Barrier failed: MPI was finalized already")
    }
}
